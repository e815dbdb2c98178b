/**
 * jupyterlab-gb: gb BASIC in JupyterLab. Registers the CodeMirror 6 language `gb-basic`
 * (mime text/x-gb-basic, files *.bas); the gb kernel's language_info.codemirror_mode names it, so
 * gb notebooks use it, and the file editor uses it for .bas files. Adds the session inspector
 * "gb sessions" to the right side panel (./inspector).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';

import { SessionsPanel } from './inspector';
import { basic } from './language';

/** The language's name and MIME type (gb_kernel/kernelspec.py's codemirror_mode and mimetype). */
export const LANGUAGE = 'gb-basic';
export const MIME = 'text/x-gb-basic';

const language: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-gb:language',
  description: 'The gb BASIC language for notebooks of the gb kernel and .bas files.',
  autoStart: true,
  requires: [IEditorLanguageRegistry],
  activate: (app: JupyterFrontEnd, languages: IEditorLanguageRegistry): void => {
    languages.addLanguage({
      name: LANGUAGE,
      displayName: 'gb BASIC',
      alias: ['gbbasic'],
      mime: MIME,
      extensions: ['bas'],
      load: async () => basic()
    });
  }
};

/** The command that opens the session inspector. */
export const OPEN_SESSIONS = 'jupyterlab-gb:open-sessions';

const inspector: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-gb:inspector',
  description: 'The gb sessions side panel: the bots\' sessions, their variables and history, and actions on them.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker, restorer: ILayoutRestorer | null): void => {
    const panel = new SessionsPanel(notebooks);
    // rank 900: its tab comes after the property inspector's and before the debugger's
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, panel.id); // the panel stays open across reloads when it was
    app.commands.addCommand(OPEN_SESSIONS, {
      label: 'Show gb sessions',
      execute: () => app.shell.activateById(panel.id)
    });
  }
};

export default [language, inspector];
