/** A fake NuGet v3 feed holding a fake Microsoft.ML.OnnxRuntime.Gpu.Linux package, served from a loopback folder. */
import AdmZip from 'adm-zip';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CUDA_PACKAGE_ID, CUDA_PROVIDER_FILES } from '../../src/core/runtime/cuda-provider';

export const FAKE_ORT_VERSION = '1.30.0';
const ID = CUDA_PACKAGE_ID.toLowerCase();

/** Library name → the bytes the fake package holds for it. */
export const fakeProviderLibraries = new Map<string, Buffer>(
  CUDA_PROVIDER_FILES.map((f) => [f.name, Buffer.concat([Buffer.from(`fake ${f.name}`), crypto.randomBytes(20_000)])]),
);

/** A .nupkg is a zip; entries are stored uncompressed so a test can damage one entry's bytes. */
export function fakeNupkg(): Buffer {
  const zip = new AdmZip();
  zip.addFile(`${ID}.nuspec`, Buffer.from('<package/>'));
  for (const f of CUDA_PROVIDER_FILES) {
    zip.addFile(f.pathInPackage, fakeProviderLibraries.get(f.name)!);
    zip.getEntry(f.pathInPackage)!.header.method = 0;
  }
  return zip.toBuffer();
}

/** Where the package lands inside the feed folder. */
export function nupkgPath(root: string, feed: string, version = FAKE_ORT_VERSION): string {
  return path.join(root, feed, 'flat', ID, version, `${ID}.${version}.nupkg`);
}

/**
 * Writes a feed under `<root>/<feed>/` for a server at `serverUrl` that serves `root`, with or without a catalog entry
 * carrying the sha512; returns the service index URL.
 */
export function publishFakeFeed(
  root: string,
  serverUrl: string,
  feed: string,
  nupkg: Buffer,
  withCatalog: boolean,
  version = FAKE_ORT_VERSION,
): string {
  const base = `${serverUrl}/${feed}`;
  const write = (rel: string, content: string | Buffer) => {
    fs.mkdirSync(path.dirname(path.join(root, feed, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, feed, rel), content);
  };
  const resources = [{ '@id': `${base}/flat/`, '@type': 'PackageBaseAddress/3.0.0' }];
  if (withCatalog) resources.push({ '@id': `${base}/reg/`, '@type': 'RegistrationsBaseUrl/3.6.0' });
  write('index.json', JSON.stringify({ version: '3.0.0', resources }));
  write(`flat/${ID}/${version}/${ID}.${version}.nupkg`, nupkg);
  write(`reg/${ID}/${version}.json`, JSON.stringify({ catalogEntry: `${base}/catalog/entry.json` }));
  const sha512 = crypto.createHash('sha512').update(nupkg).digest('base64');
  write(
    'catalog/entry.json',
    JSON.stringify({ packageHash: sha512, packageHashAlgorithm: 'SHA512', packageSize: nupkg.length }),
  );
  return `${base}/index.json`;
}
