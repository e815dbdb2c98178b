/**
 * jupyterlab-gb: gb BASIC in JupyterLab. Registers the CodeMirror 6 language `gb-basic`
 * (mime text/x-gb-basic, files *.bas); the gb kernel's language_info.codemirror_mode names it, so
 * gb notebooks use it, and the file editor uses it for .bas files.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';

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

export default [language];
