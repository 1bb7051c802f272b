/**
 * What the Marketplace page is made of, checked on the sources: the icon (a PNG of at least 128×128: SVG icons are
 * refused), the links, keywords and banner of package.json, a CHANGELOG.md entry for the manifest's version, and README
 * images that vsce accepts (no SVG, no plain http).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

interface Manifest {
  version: string;
  icon: string;
  repository: { type: string; url: string };
  bugs: { url: string };
  homepage: string;
  qna: string | false;
  keywords: string[];
  galleryBanner: { color: string; theme: string };
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;

test('icon: a PNG of 128×128 pixels', () => {
  assert.match(manifest.icon, /\.png$/);
  const png = fs.readFileSync(path.join(REPO_ROOT, manifest.icon));
  assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
});

test('repository, bugs, homepage and Q&A are https links of the same repository', () => {
  assert.equal(manifest.repository.type, 'git');
  const repo = /^(https:\/\/github\.com\/[\w.-]+\/[\w.-]+?)(\.git)?$/.exec(manifest.repository.url)?.[1];
  assert.ok(repo, manifest.repository.url);
  assert.equal(manifest.bugs.url, `${repo}/issues`);
  assert.ok(manifest.homepage.startsWith(repo), manifest.homepage);
  assert.ok(manifest.qna === false || manifest.qna === 'marketplace' || manifest.qna.startsWith(repo), 'qna');
});

test('keywords and gallery banner as the Marketplace takes them', () => {
  assert.ok(manifest.keywords.length > 0 && manifest.keywords.length <= 30, 'between 1 and 30 keywords');
  assert.equal(new Set(manifest.keywords).size, manifest.keywords.length, 'no keyword twice');
  assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
  assert.ok(['dark', 'light'].includes(manifest.galleryBanner.theme), manifest.galleryBanner.theme);
});

test("CHANGELOG.md has an entry for the manifest's version", () => {
  const changelog = fs.readFileSync(path.join(REPO_ROOT, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, new RegExp(`^## \\[${manifest.version.replace(/\./g, '\\.')}\\]`, 'm'));
});

test('README images: files that exist, no SVG and no plain http (vsce refuses both)', () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img [^>]*src="([^"]+)"/g)].map(
    (m) => m[1] ?? m[2],
  );
  for (const src of images) {
    assert.doesNotMatch(src, /\.svg(\?|#|$)/i, src);
    assert.doesNotMatch(src, /^http:/i, src);
    if (!/^https:/i.test(src)) assert.ok(fs.existsSync(path.join(REPO_ROOT, src)), `${src} exists`);
  }
});
