/**
 * Where a pipeline may read an input file on the worker's disk: only inside the configured input folder
 * (LONGHAUL_INPUT_DIR, default `<LONGHAUL_DATA_DIR>/input`). A relative path is taken inside it; the file's
 * real path (symlinks resolved) must stay inside the folder's real path, so `../`, absolute paths elsewhere,
 * `/proc/…` and symlinks pointing out are refused — before the file is opened, with an error that names the
 * flag and never says whether a file outside exists. Errors never quote file content (docs/security.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidInput');

const inside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * The real path of `file` if it is a regular file inside `inputDir`; else a non-retryable InvalidInput
 * naming `flag` (`--csv`). The returned path is the one to open (no symlink left to swap).
 */
export async function resolveInputFile(file: string, inputDir: string, flag: string): Promise<string> {
  const outside = () =>
    refuse(
      `${flag}: ${file} is outside the worker's input folder (LONGHAUL_INPUT_DIR): put the file in that folder ` +
        `(a relative path is taken inside it) or in the bucket (s3://…)`,
    );
  if (file.includes('\0')) throw refuse(`${flag}: the path holds a NUL character`);
  const root = path.resolve(inputDir);
  const lexical = path.resolve(root, file);
  if (!inside(root, lexical)) throw outside();
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(root);
  } catch {
    throw refuse(`${flag}: ${file} not found (the worker's input folder LONGHAUL_INPUT_DIR does not exist)`);
  }
  let real: string;
  try {
    real = await fs.promises.realpath(lexical);
  } catch {
    throw refuse(`${flag}: ${file} not found in the worker's input folder (LONGHAUL_INPUT_DIR)`);
  }
  if (!inside(realRoot, real)) throw outside();
  const st = await fs.promises.stat(real);
  if (!st.isFile()) throw refuse(`${flag}: ${file} is not a regular file`);
  return real;
}
