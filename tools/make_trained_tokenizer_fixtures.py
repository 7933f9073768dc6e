#!/usr/bin/python3
"""Reference ids for a tokenizer trained by Camelid's BpeTrainer, from Google's sentencepiece.

The model tests/fixtures/tokenizers/camelid-trained-bpe.model is written by the C# test
SentencePieceCrossCheckTests (run it once with CAMELID_WRITE_FIXTURES=1). Then, with Debian's python3-sentencepiece
(0.1.97 was used):
    /usr/bin/python3 tools/make_trained_tokenizer_fixtures.py
writes tests/fixtures/tokenizers/camelid-trained-bpe.json: {"sentencepiece": version, "cases": [{"text", "ids"}]},
ids from sp.encode(text) without BOS/EOS. sentencepiece loading the model at all also checks that the file is valid.
Text right after a user-defined symbol is left out on purpose: Camelid (like llama.cpp) puts the dummy prefix there,
sentencepiece only at the very start of the text.
"""
import json
import os

import sentencepiece as spm

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "tokenizers")

TEXTS = [
    "The cat sees the red ball.",
    "A little bird follows the quiet river in the morning.",
    "My sister remembers some warm bread near the house!",
    "the teacher paints three yellow flowers again and again.",
    "  two leading spaces and two trailing  ",
    "tabs\tand\nnewlines\r\n",
    "Unseen words: zebra, quixotic, jazz 12345.",
    "我们今天喜欢读书。",
    "北京的朋友吃饭，",
    "user\nHello there<|im_end|>",
    "emoji 🦙😀 and accents café naïve",
    "Ж λ 한국어 ١٢٣",
    "ThecatseestheREDBALL",
    "a",
    " ",
]


def main():
    sp = spm.SentencePieceProcessor(model_file=os.path.join(FIXTURES, "camelid-trained-bpe.model"))
    cases = [{"text": t, "ids": sp.encode(t)} for t in TEXTS]
    with open(os.path.join(FIXTURES, "camelid-trained-bpe.json"), "w", encoding="utf-8") as f:
        json.dump({"sentencepiece": spm.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
