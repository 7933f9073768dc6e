#!/usr/bin/python3
"""Reference token ids for the SentencePiece tokenizer tests (tests/Camelid.Tokenization.Tests).

Run with Debian's python3-sentencepiece (0.1.97 was used):
    /usr/bin/python3 tools/make_tokenizer_fixtures.py [shared-data-dir]

For each model it writes tests/fixtures/tokenizers/<name>.json:
    {"model": ..., "sentencepiece": version, "normalizer": {...},
     "cases":  [{"text": s, "ids": sp.encode(s), "decoded": sp.decode(ids)}],
     "decode": [{"ids": [...], "text": sp.decode(ids)}]}
"encode" never adds BOS/EOS (the C# tests call Encode(text, addBos: false)).
"tok512-keep-spaces" is tok512.model with normalizer_spec.remove_extra_whitespaces switched off and unk_surface reset
to sentencepiece's default " \u2047 " (tok512.model has a mis-escaped one): tok512.bin and stories260K.gguf carry
neither field, so that is the tokenizer they describe (llama2.c and llama.cpp also keep the spaces).
"""
import json
import os
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "data")
OUT = os.path.join(REPO, "tests", "fixtures", "tokenizers")

TEXTS = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    " \n ",
    "\r\n",
    "Hello",
    " Hello",
    "Hello world",
    "Hello  world",
    "  leading spaces",
    "trailing spaces  ",
    "a  b   c    d     e",
    "line one\nline two\r\nline three\n",
    "tab\tseparated\tvalues\t",
    "\t indented with tab and space",
    "1234567890",
    "3.14159 and 2,718 and -42 and 1e-5",
    "Numbers: 1 12 123 1234 12345 123456",
    "!!!!!! ?????? ......",
    "Hello, world! How's it going? I'm fine, you're great, we've done it, they'll see, he'd know.",
    "(parens) [brackets] {braces} <angles> \"quotes\" 'single'",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) { sum += x[i] * 2; }",
    "https://example.com/path/to/page?query=1&x=y#fragment",
    "email: someone@example.org, phone: +1 (555) 123-4567",
    "naïve café résumé Führer coöperate",
    "Ελληνικά γράμματα",
    "Привет, мир! нещо на Български",
    "日本語のテキストです。",
    "我想在apple工作1314151天～",
    "한국어 텍스트",
    "العربية من اليمين",
    "עברית",
    "हिन्दी भाषा",
    "Cửa Việt",
    "កាន់តែពិសេសអាចខលចេញ",
    "emoji 🦙🚀😀👍🏽",
    "😶\u200d🌫️ ✅ (only emoji that has its own token)",
    "🦙🦙🦙🦙🦙🦙🦙🦙",
    "ℌ𝔢𝔩𝔩𝔬 𝟙𝟚𝟛 math letters",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 8,
    "a" * 300,
    "<s>",
    "</s>",
    "<unk>",
    "<s> Hello </s>",
    "<0x41> literal byte token text",
    "\u2581",
    "\u2581Hello\u2581world",
    "mixed: café 🦙 3.5 ∑∫√ ±∞ → ←",
    "non\u00a0breaking\u00a0space",
    "zero\u200bwidth\u200bspace",
    "CamelCaseIdentifier snake_case_identifier kebab-case-identifier",
    "ALL CAPS SHOUTING",
    "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    "control \x07 bell and \x1b escape",
    "form\x0cfeed and vertical\x0btab",
    "    Hello\n    Hello",
    "w048 7tuijk dsdfhu",
]

# (name, model path relative to shared data, tweak of the normalizer spec)
MODELS = [
    ("llama2", "tokenizers/llama2c/tokenizer.model", None),
    ("tok512", "models/tok512.model", None),
    ("tok512-keep-spaces", "models/tok512.model", {"remove_extra_whitespaces": False, "unk_surface": None}),
]


def byte_id(sp, b):
    return sp.piece_to_id("<0x%02X>" % b)


def decode_sequences(sp):
    """Id sequences chosen to exercise sentencepiece's decode rules (not produced by encode)."""
    hello = sp.encode("Hello")
    space_hello = sp.encode(" Hello")
    emoji = [byte_id(sp, b) for b in "🦙".encode("utf-8")]
    seqs = [
        [],
        [sp.bos_id()] + hello + [sp.eos_id()],
        [sp.bos_id()] + space_hello,
        hello + hello,
        [sp.eos_id()] + hello,
        [sp.unk_id()],
        hello + [sp.unk_id()] + hello,
        emoji,
        emoji[:2],
        emoji[:2] + hello,
        [emoji[1]] + hello,
        hello + emoji[:3],
        [byte_id(sp, 0x20)] + hello,
        [byte_id(sp, 0xC3), byte_id(sp, 0x28)],
        [byte_id(sp, 0xE0), byte_id(sp, 0x80), byte_id(sp, 0x80)],
        [byte_id(sp, 0xED), byte_id(sp, 0xA0), byte_id(sp, 0x80)],
        [byte_id(sp, 0xF4), byte_id(sp, 0x90), byte_id(sp, 0x80), byte_id(sp, 0x80)],
        [byte_id(sp, 0xFF)] + hello,
        [sp.piece_to_id("\u2581")] + hello,
        [sp.piece_to_id("\u2581")] + space_hello,
        [sp.bos_id(), sp.piece_to_id("\u2581")] + emoji,
    ]
    return seqs


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, rel, tweak in MODELS:
        proto = pb.ModelProto()
        with open(os.path.join(SHARED, rel), "rb") as f:
            proto.ParseFromString(f.read())
        for key, value in (tweak or {}).items():
            if key == "unk_surface":
                proto.trainer_spec.ClearField("unk_surface")
            else:
                setattr(proto.normalizer_spec, key, value)
        sp = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
        cases = []
        for text in TEXTS:
            ids = sp.encode(text)
            cases.append({"text": text, "ids": ids, "decoded": sp.decode(ids)})
        decode = [{"ids": ids, "text": sp.decode(ids)} for ids in decode_sequences(sp)]
        doc = {
            "model": rel,
            "sentencepiece": spm.__version__,
            "normalizer": {
                "add_dummy_prefix": proto.normalizer_spec.add_dummy_prefix,
                "remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
            },
            "cases": cases,
            "decode": decode,
        }
        path = os.path.join(OUT, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=True, indent=1)
            f.write("\n")
        print(f"{path}: {len(cases)} encode cases, {len(decode)} decode cases")


if __name__ == "__main__":
    main()
