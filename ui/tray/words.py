"""What the tray says, in English and Hindi: plain words for a parent who is not an engineer."""

from __future__ import annotations

import os
from typing import Literal

Language = Literal["en", "hi"]
LANGUAGES: tuple[Language, ...] = ("en", "hi")

_WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "name": "Abhaya",
        "protected": "protection is on",
        "paused": "protection is paused until {time}",
        "problem": "there is a problem: {what}",
        "signed_out": "sign in with the parent PIN to see the state",
        "unreachable": "the Abhaya agent is not answering",
        "no_pin": "no parent PIN is set yet; open the console to set one",
        "key_file": "the history's key is kept in a file, not in the keyring",
        "security": "the PIN settings are damaged (an administrator runs abhaya reset-pin)",
        "writer": "activity is not being recorded",
        "tamper": "someone tried to change the protection at {time}",
        "requests_one": "1 request waiting",
        "requests_many": "{n} requests waiting",
        "alerts_one": "1 alert",
        "alerts_many": "{n} alerts",
        "open_console": "Open the console",
        "pause_15": "Pause for 15 minutes",
        "pause_60": "Pause for 1 hour",
        "resume": "Turn protection back on",
        "sign_in": "Sign in...",
        "quit": "Close the tray",
        "menu": "menu",
        "new_request": "New request from {profile}: {domain}",
        "new_alert": "New {severity} alert for {profile}; open the console to see it",
        "summary": "{what}; open the console to see them",
        "now_problem": "Abhaya needs attention",
        "recovered": "Abhaya is answering again",
        "pin_prompt": "Parent PIN",
        "pin_why_pause": "Enter the parent PIN to pause protection",
        "pin_why_resume": "Enter the parent PIN to turn protection back on",
        "pin_why_sign_in": "Enter the parent PIN to see the state",
        "ok": "OK",
        "cancel": "Cancel",
        "everyone": "this computer",
    },
    "hi": {
        "name": "अभय",
        "protected": "सुरक्षा चालू है",
        "paused": "सुरक्षा {time} तक रुकी हुई है",
        "problem": "एक समस्या है: {what}",
        "signed_out": "स्थिति देखने के लिए अभिभावक पिन से साइन इन करें",
        "unreachable": "अभय एजेंट जवाब नहीं दे रहा है",
        "no_pin": "अभी कोई अभिभावक पिन नहीं है; पिन बनाने के लिए कंसोल खोलें",
        "key_file": "इतिहास की कुंजी कीरिंग में नहीं, एक फ़ाइल में रखी है",
        "security": "पिन की सेटिंग्स खराब हैं (व्यवस्थापक abhaya reset-pin चलाएँ)",
        "writer": "गतिविधि दर्ज नहीं हो रही है",
        "tamper": "{time} पर किसी ने सुरक्षा बदलने की कोशिश की",
        "requests_one": "1 अनुरोध प्रतीक्षा में",
        "requests_many": "{n} अनुरोध प्रतीक्षा में",
        "alerts_one": "1 चेतावनी",
        "alerts_many": "{n} चेतावनियाँ",
        "open_console": "कंसोल खोलें",
        "pause_15": "15 मिनट के लिए रोकें",
        "pause_60": "1 घंटे के लिए रोकें",
        "resume": "सुरक्षा फिर चालू करें",
        "sign_in": "साइन इन करें...",
        "quit": "ट्रे बंद करें",
        "menu": "मेन्यू",
        "new_request": "{profile} का नया अनुरोध: {domain}",
        "new_alert": "{profile} के लिए नई चेतावनी ({severity}); देखने के लिए कंसोल खोलें",
        "summary": "{what}; देखने के लिए कंसोल खोलें",
        "now_problem": "अभय को ध्यान चाहिए",
        "recovered": "अभय फिर से जवाब दे रहा है",
        "pin_prompt": "अभिभावक पिन",
        "pin_why_pause": "सुरक्षा रोकने के लिए अभिभावक पिन डालें",
        "pin_why_resume": "सुरक्षा फिर चालू करने के लिए अभिभावक पिन डालें",
        "pin_why_sign_in": "स्थिति देखने के लिए अभिभावक पिन डालें",
        "ok": "ठीक है",
        "cancel": "रद्द करें",
        "everyone": "यह कंप्यूटर",
    },
}


def say(language: Language, key: str, **values: object) -> str:
    """The text `key` in `language`, filled in; a missing key is a bug, so KeyError shows it."""
    return _WORDS[language][key].format(**values)


def count_text(language: Language, what: str, n: int) -> str:
    """`1 request waiting` / `3 requests waiting` (what: "requests" or "alerts")."""
    return say(language, f"{what}_one" if n == 1 else f"{what}_many", n=n)


def language_from_environment(environ: dict[str, str] | None = None) -> Language:
    """Hindi when the desktop's locale is Hindi (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else
    English: the first of those variables that is set decides, as gettext reads them."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "hi" if value.split(":")[0].startswith("hi") else "en"
    return "en"
