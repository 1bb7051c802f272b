/**
 * Entry point the extension host loads (`extensionTestsPath`): the contract @vscode/test-electron uses. run() resolves
 * when every test passes and rejects otherwise, which becomes the runner's exit code.
 */
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // BERTFT_INTEGRATION_GREP runs only the tests whose titles match (one suite while working on it).
  const grep = process.env.BERTFT_INTEGRATION_GREP || undefined;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec', grep });
  // This folder's suites, then the training UI's (test/integration/extension-ui).
  for (const dir of [__dirname, path.join(__dirname, '..', 'extension-ui')]) {
    if (!fs.existsSync(dir)) continue;
    for (const file of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.test.js'))
      .sort())
      mocha.addFile(path.join(dir, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
