import fs from 'node:fs';
import { csvField } from './csv';

/**
 * premise,hypothesis,label rows for the text-pair tests: every premise praises a thing (with a row number); "agree"
 * when the hypothesis praises it too, else "disagree". The label lies in the second text, so a pair model's scores
 * visibly depend on it: random:tiny (TINY_RUN_SETTINGS) reaches validation accuracy 1.0 on 96 rows. "Agree when both
 * sentiments match", with premises of both kinds, is an XOR it does not learn in 60 steps: it predicts the prior,
 * pair or not, to within 1e-4, and explanations are noise.
 */
export function writeAgreementCsv(file: string, rows: number): void {
  const good = ['great', 'wonderful', 'excellent', 'lovely', 'superb'];
  const bad = ['awful', 'terrible', 'boring', 'dreadful', 'poor'];
  const things = ['movie', 'film', 'story', 'acting', 'ending', 'music'];
  const lines = ['premise,hypothesis,label'];
  for (let i = 0; i < rows; i++) {
    const thing = things[i % things.length];
    const agree = i % 4 < 2;
    const verdict = (agree ? good : bad)[(i * 3 + 1) % 5];
    const premise = `the ${thing} was ${good[i % good.length]} ${i}`;
    lines.push(`${csvField(premise)},${csvField(`the ${thing} felt ${verdict}`)},${agree ? 'agree' : 'disagree'}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}
