// Whether something is at a path: the stores check before they write content-addressed files, which never change.
import { stat } from 'node:fs/promises';

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
