/**
 * Folder per class, the 20 Newsgroups / scikit-learn `load_files` layout: `root/<label>/<document>`. Hidden files and
 * folders (starting with '.') and those the operating system adds (isSystemEntry) are skipped silently; binary,
 * non-UTF-8 and empty documents are skipped with a warning each, so one stray file does not stop training.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import { canonicalLabel, labelKindOf } from './labels';
import { UTF8_BOM } from './source';
import type { DataProblem, Example, LabelKind } from './types';

/** A NUL byte in the first bytes marks a binary file (the same test git and grep use). */
const BINARY_SNIFF_BYTES = 8000;

export interface FolderRead {
  examples: Example[];
  labelKind: LabelKind;
  problems: DataProblem[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Entries that are never data: hidden ones (`.DS_Store`, macOS's `._name` copies on FAT and network drives, `.git`)
 * and those macOS and Windows add by themselves (a zip's `__MACOSX` folder, Explorer's `Thumbs.db` and `desktop.ini`,
 * in any case since the file systems there ignore it).
 */
export function isSystemEntry(name: string): boolean {
  return name.startsWith('.') || /^(__MACOSX|Thumbs\.db|desktop\.ini)$/i.test(name);
}

async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => !isSystemEntry(e.name));
  } catch (e) {
    throw new DataError(`The folder cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, {
      file: dir,
      code: 'DATA_UNREADABLE',
      cause: e,
      fix: 'Check that the folder exists and that you have permission to read it.',
    });
  }
}

export async function readFolder(root: string): Promise<FolderRead> {
  const entries = await listDir(root);
  const classDirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byName);
  const problems: DataProblem[] = [];
  if (classDirs.length === 0) {
    throw new DataError('The folder has no class subfolders.', {
      file: root,
      code: 'DATA_NO_CLASS_FOLDERS',
      fix: 'Put each class in its own subfolder named after the label, e.g. data/spam/1.txt and data/ham/2.txt.',
    });
  }
  const looseFiles = entries.filter((e) => e.isFile()).length;
  if (looseFiles > 0) {
    problems.push({
      severity: 'info',
      message: `${looseFiles} file(s) directly in the folder are not in a class subfolder and were ignored.`,
      file: root,
      line: null,
      code: 'DATA_LOOSE_FILES',
    });
  }
  const kind = labelKindOf(classDirs);
  const examples: Example[] = [];
  for (const dir of classDirs) {
    const label = kind === 'integer' ? canonicalLabel(dir) : dir;
    const dirPath = path.join(root, dir);
    const docs = (await listDir(dirPath)).sort((a, b) => byName(a.name, b.name));
    const before = examples.length;
    for (const doc of docs) {
      const file = path.join(dirPath, doc.name);
      if (!doc.isFile()) {
        problems.push({
          severity: 'warning',
          message: 'Subfolders inside a class folder are not read.',
          file,
          line: null,
          code: 'DATA_NESTED_FOLDER',
          fix: 'Move its documents up into the class folder if they belong to this class.',
        });
        continue;
      }
      const bytes = await fsp.readFile(file);
      const skip = (message: string, code: string, fix: string) =>
        problems.push({ severity: 'warning', message: `${message} Skipped.`, file, line: null, code, fix });
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
        skip(
          'This looks like a binary file, not text.',
          'DATA_BINARY_FILE',
          'Remove it from the class folder, or convert it to plain text.',
        );
        continue;
      }
      if (!isCompleteUtf8(bytes)) {
        skip(
          'This file is not valid UTF-8.',
          'DATA_NOT_UTF8',
          'Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).',
        );
        continue;
      }
      const text = bytes.subarray(bytes.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0).toString('utf8');
      if (text.trim() === '') {
        skip('The document is empty.', 'DATA_MISSING_TEXT', 'Delete it or give it some text.');
        continue;
      }
      examples.push({ text, label, file, line: 1 });
    }
    if (examples.length === before) {
      problems.push({
        severity: 'warning',
        message: `The class folder "${dir}" has no readable documents, so there is no class "${label}".`,
        file: dirPath,
        line: null,
        code: 'DATA_EMPTY_CLASS_FOLDER',
        fix: 'Put its documents in it, or remove the folder.',
      });
    }
  }
  if (examples.length === 0) {
    throw new DataError('The class subfolders contain no readable text documents.', {
      file: root,
      code: 'DATA_NO_ROWS',
      fix: 'Put UTF-8 text files in the class subfolders, e.g. data/spam/1.txt.',
    });
  }
  return { examples, labelKind: kind, problems };
}

function isCompleteUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
