/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with the `openssl` command line (Node has no certificate
 * generator) in a fresh temporary folder; undefined where openssl is not installed, so a test can skip with a reason.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from './temp';

export interface TestCertificate {
  key: string;
  cert: string;
  /** The certificate's PEM file: what NODE_EXTRA_CA_CERTS points at. */
  certFile: string;
}

export function makeSelfSignedCertificate(): TestCertificate | undefined {
  const dir = tempFolder('bertft-cert-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-subj',
      '/CN=bertft test CA',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (made.error || made.status !== 0) return undefined;
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}
