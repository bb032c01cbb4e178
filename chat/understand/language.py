"""Which language a message is in, and an English gloss of Chinese messages.

Replies follow the user's language: English, or Chinese (which the Qwen models
write well). Detection counts scripts rather than guessing from a few words:
Han characters count as words at half weight (a Chinese word is ~2 characters),
Latin letters are grouped into words, so "推荐 wireless earbuds" is Chinese and
"I want 便宜的 earbuds please" stays English. A message mostly written in a
script we do not serve (Cyrillic, Arabic, Hangul, …) is reported as
unsupported, so the session can say so instead of answering nonsense.

The tracker reads English. `gloss` rewrites the Chinese phrases it knows into
English words ("恐怖片" → " horror movie ", "不要" → " no ") so one parser serves
both languages, and the dense query of a Chinese message is English that the
English embedder understands.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SUPPORTED = ("en", "zh")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_OTHER_SCRIPTS = {
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f]"),
    "hebrew": re.compile(r"[\u0590-\u05ff]"),
    "devanagari": re.compile(r"[\u0900-\u097f]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
}


@dataclass(frozen=True)
class Detected:
    language: str | None  # "en" | "zh"; None when the text has no letters at all
    unsupported_script: str | None = None  # e.g. "cyrillic" when that dominates
    written_in: str | None = None  # another Latin-script language ("es", "de") it is in


# Latin-script languages told apart from English by how common the message's words
# are in each (wordfreq's Zipf scale, averaged over the words): a Spanish or German
# message scores 2.5-3.5 higher in its own language, while English with typos
# and text-speak ("need wireles hedphones") or with a borrowed word ("a piñata")
# scores highest in English.
# Only words of three letters or more count ("a", "de", "in" are words of many
# languages), and a message needs three of them to tell. wordfreq's "small" lists
# (the words of Zipf 3 and up): about 4 MB per language, where its full lists take
# 27-62 MB each (216 MB for these six, measured in a server).
LATIN_LANGUAGES = ("es", "de", "fr", "it", "pt", "nl", "pl")
LANGUAGE_MARGIN = 1.0
LANGUAGE_MIN_WORDS = 3
SHORT_MIN_WORDS = 2


def latin_language(text: str) -> str | None:
    """The Latin-script language other than English a message is clearly written
    in, or None (English, or too few words to tell)."""
    from wordfreq import zipf_frequency

    found = [w.lower() for w in _LATIN_WORD.findall(text) if len(w) >= 3]
    margin = LANGUAGE_MARGIN
    if len(found) < LANGUAGE_MIN_WORDS:
        # a short reply ("el tercero no", "der zweite bitte"): its short words count
        # too, and it must be twice as clearly of the other language
        found = [w.lower() for w in _LATIN_WORD.findall(text) if len(w) >= 2]
        margin = 2 * LANGUAGE_MARGIN
        if len(found) < SHORT_MIN_WORDS:
            return None

    def score(lang: str) -> float:
        return sum(zipf_frequency(w, lang, wordlist="small") for w in found) / len(found)

    english = score("en")
    best = max(LATIN_LANGUAGES, key=score)
    return best if score(best) - english >= margin else None


def detect(text: str) -> Detected:
    han = len(_HAN.findall(text))
    latin_words = _LATIN_WORD.findall(text)
    latin_letters = sum(len(w) for w in latin_words)
    other = {name: len(p.findall(text)) for name, p in _OTHER_SCRIPTS.items()}
    # kana next to Han is Japanese in a title or name ("木製けん玉"): tolerated
    if han:
        other["kana"] = 0
    foreign = sum(other.values())
    supported = han + latin_letters
    if foreign and foreign > supported:
        return Detected(None, max(other, key=lambda name: other[name]))
    if not supported:
        return Detected(None)
    if han >= 2 and han / 2 >= 0.5 * len(latin_words):
        return Detected("zh")
    if han and not latin_words:
        return Detected("zh")
    return Detected("en", written_in=latin_language(text))


def han_share(text: str) -> float:
    """Share of the letters that are Han characters (for checking a reply's language)."""
    han = len(_HAN.findall(text))
    letters = han + sum(len(w) for w in _LATIN_WORD.findall(text))
    return han / letters if letters else 0.0


# Longest phrases first when glossing, so "不要太" wins over "不要".
ZH_GLOSSARY: dict[str, str] = {
    # asking and wanting
    "推荐": "recommend",
    "我想要": "i want",
    "想要": "want",
    "我要": "i want",
    "有没有": "any",
    "给我": "give me",
    "看看": "show",
    "电影": "movie",
    "影片": "movie",
    "片子": "movie",
    # negation and feedback
    "不要太": "not too",
    "不要": "no",
    "不想要": "no",
    "别": "no",
    "除了": "except",
    "不喜欢": "do not like",
    "讨厌": "hate",
    "喜欢": "like",
    "看过了": "seen it",
    "看过": "seen",
    "已经有了": "already have it",
    "已经有": "already have",
    "重新开始": "start over",
    "从头开始": "start over",
    # references
    "第一个": "the first one",
    "第二个": "the second one",
    "第三个": "the third one",
    "第四个": "the fourth one",
    "最后一个": "the last one",
    "这个": "this one",
    "那个": "that one",
    "便宜一点的": "the cheaper one",
    "更便宜的": "cheaper",
    "更便宜": "cheaper",
    "多少钱": "how much is it",
    # the questions for an item's fields
    "多重": "how heavy",
    "多大": "how big",
    "尺寸": "size",
    "几星": "how many stars",
    "评分": "rating",
    "多少页": "how many pages",
    "几页": "how many pages",
    "容量": "capacity",
    "电池": "battery",
    "续航": "battery",
    "哪一年": "what year",
    "哪年": "what year",
    "谁导演": "who directed",
    "导演": "director",
    "谁演": "who is in",
    "主演": "who is in",
    "作者": "author",
    "谁写": "who wrote",
    "品牌": "brand",
    "颜色": "colour",
    "材质": "material",
    "价格": "price",
    "有货": "in stock",
    "有库存": "in stock",
    # genres
    "恐怖片": "horror movie",
    "恐怖": "horror",
    "喜剧片": "comedy movie",
    "喜剧": "comedy",
    "科幻片": "sci-fi movie",
    "科幻": "sci-fi",
    "动作片": "action movie",
    "动作": "action",
    "爱情片": "romance movie",
    "爱情": "romance",
    "浪漫": "romance",
    "动画片": "animation movie",
    "动画": "animation",
    "纪录片": "documentary",
    "惊悚片": "thriller movie",
    "惊悚": "thriller",
    "悬疑": "mystery",
    "犯罪": "crime",
    "奇幻": "fantasy",
    "战争": "war",
    "家庭": "family",
    "血腥": "gore",
    # shop words
    "耳机": "earphones",
    "蓝牙": "bluetooth wireless",
    "无线": "wireless",
    "跑步": "running",
    "帐篷": "tent",
    "露营": "camping",
    "防水": "waterproof",
    "咖啡": "coffee",
    "磨豆机": "coffee grinder",
    "水壶": "kettle",
    "玩具": "toys",
    "恐龙": "dinosaurs",
    "书": "books",
    "小说": "novel books",
    "厨房": "kitchen",
    "礼物": "gift",
    "户外": "outdoor",
    "运动": "sports",
    "美妆": "beauty",
    "护肤": "skincare beauty",
    "花园": "garden",
    "园艺": "garden",
    "办公": "office",
    "衣服": "fashion",
    "服装": "fashion",
    "电子产品": "electronics",
    "家居": "home",
    "茶": "tea",
    # common kinds of things people ask a shop for
    "扫地机器人": "robot vacuum",
    "吸尘器": "vacuum",
    "太阳镜": "sunglasses",
    "墨镜": "sunglasses",
    "偏光": "polarised",
    "眼镜": "glasses",
    "手表": "watch",
    "背包": "backpack",
    "双肩包": "backpack",
    "跑鞋": "running shoes",
    "鞋子": "shoes",
    "鞋": "shoes",
    "椅子": "chair",
    "台灯": "desk lamp",
    "灯": "lamp",
    "杯子": "mug",
    "毯子": "blanket",
    "枕头": "pillow",
    "蜡烛": "candle",
    "手套": "gloves",
    "音箱": "speaker",
    "充电宝": "power bank",
    "键盘": "keyboard",
    "鼠标": "mouse",
    "锅": "pan",
    "瑜伽垫": "yoga mat",
    "睡袋": "sleeping bag",
    "外套": "jacket",
    "夹克": "jacket",
    "帽子": "hat",
    "围巾": "scarf",
    "袜子": "socks",
    "香水": "perfume",
    "面膜": "face mask",
    "拼图": "puzzle",
    "积木": "building blocks",
    # prices and time
    "便宜的": "cheap",
    "便宜": "cheap",
    "高端": "high-end",
    "贵的": "expensive",
    "以下": " or less",
    "以内": " or less",
    "以上": " or more",
    "低于": "under",
    "少于": "under",
    "不超过": "at most",
    "高于": "over",
    "超过": "over",
    "美元": " dollars",
    "美金": " dollars",
    "块钱": " dollars",
    "块": " dollars",
    "元": " dollars",
    "年代": "s",
    "年以后": " or later",
    "年之后": " or later",
    "年以前": " or earlier",
    "年之前": " or earlier",
    "左右": " or so",
    "上下": " or so",
    "大概": "about",
    "大约": "about",
    "之间": "",
    "到": " to ",
    "谢谢": "thanks",
    "你好": "hello",
}
_GLOSS = re.compile("|".join(re.escape(k) for k in sorted(ZH_GLOSSARY, key=len, reverse=True)))
_ZH_PUNCT = str.maketrans("，。！？；：、（）“”‘’", ",.!?;:,()\"\"''")


_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ZH_NUMBER = re.compile(f"[{''.join(_ZH_DIGITS)}{''.join(_ZH_UNITS)}]+")


def _zh_value(run: str) -> int:
    """三百 → 300, 两百五十 → 250, 十五 → 15, 一千二 → 1200 (the unit left out)."""
    total, section, digit, last_unit = 0, 0, 0, 1
    for ch in run:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch == "万":
            total, section, digit = (total + section + digit) * 10000, 0, 0
            last_unit = 10000
        else:
            section += (digit or 1) * _ZH_UNITS[ch]
            digit, last_unit = 0, _ZH_UNITS[ch]
    if digit and last_unit >= 100 and run[-1] in _ZH_DIGITS and len(run) > 2:
        digit *= last_unit // 10  # 一千二 is 1200, 两百五 is 250
    return total + section + digit


def _zh_numbers(text: str) -> str:
    """Chinese numerals that can be amounts as digits: 三百 → 300; a lone 一 ("一副",
    "one pair") stays unless a currency follows it."""

    def digits(m: re.Match[str]) -> str:
        run = m.group(0)
        money = re.match(r"\s*dollars", text[m.end() :])
        if len(run) == 1 and run in _ZH_DIGITS and not money:
            return run
        return f" {_zh_value(run)}"

    return _ZH_NUMBER.sub(digits, text)


def gloss(text: str) -> str:
    """English rendering of the Chinese phrases we know; other text is kept."""
    if not _HAN.search(text):
        return text
    text = unicodedata.normalize("NFKC", text).translate(_ZH_PUNCT)
    # "一部90年代" → "一部 90年代": digits next to Han characters are words of their own
    text = re.sub(r"(?<=[\u3400-\u9fff])(?=\d)|(?<=\d)(?=[\u3400-\u9fff])", " ", text)
    out = _zh_numbers(_GLOSS.sub(lambda m: f" {ZH_GLOSSARY[m.group(0)]} ", text))
    # "90 s" (from 90年代) → "90s"; "50 dollars or less"
    out = re.sub(r"(\d)\s+s\b", r"\1s", out)
    return re.sub(r"\s+", " ", out).strip()
