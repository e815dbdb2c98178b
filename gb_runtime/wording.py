"""What gb itself says to a bot's users (not what its dialogs say), in the session's language:
English, and Brazilian Portuguese for any ``pt`` code (the HEAR validators' rule,
gb_basic.validators.language_of). The developer's wording (logs, system notes, the notebook)
stays English."""

from __future__ import annotations

from gb_basic.validators import language_of

__all__ = ["TEXTS", "said"]

# key -> (English, Brazilian Portuguese); {name} and the like are filled in by said()
TEXTS: dict[str, tuple[str, str]] = {
    "not-understood": ("Sorry, I did not understand.", "Desculpe, não entendi."),
    "you-can-type": (" You can type: {names}.", " Você pode digitar: {names}."),
    "llm-stopped": ("Stopped: the answer was not finished, and nothing of it was kept.",
                    "Interrompido: a resposta não foi concluída, e nada dela foi guardado."),
    "llm-budget": ("Sorry, I cannot answer more questions today: the assistant's daily budget is used up.",
                   "Desculpe, não posso responder mais perguntas hoje: o limite diário do assistente acabou."),
    "llm-failed": ("Sorry, I could not answer that just now: the assistant did not finish its answer, and "
                   "nothing of it was kept. Please try again.",
                   "Desculpe, não consegui responder agora: o assistente não terminou a resposta, e nada dela "
                   "foi guardado. Por favor, tente de novo."),
    "too-much-work": ("Sorry, that was too much work for one message; nothing was changed.",
                      "Desculpe, isso foi trabalho demais para uma mensagem; nada foi alterado."),
    "went-wrong": ("Sorry, something went wrong in this conversation.",
                   "Desculpe, algo deu errado nesta conversa."),
    "dialog-changed": ("The {name} dialog was changed while it waited for you; please start it again.",
                       "O diálogo {name} mudou enquanto esperava por você; por favor, comece de novo."),
    "cannot-resume": ("The dialog {name} could not be resumed ({reason}); starting over.",
                      "O diálogo {name} não pôde continuar ({reason}); começando de novo."),
}


def said(key: str, language: str | None, **values: str) -> str:
    """The text `key` in `language` (a bot's or session's code: "en", "pt-BR" ...)."""
    english, portuguese = TEXTS[key]
    return (portuguese if language_of(language) == "pt-BR" else english).format(**values)
