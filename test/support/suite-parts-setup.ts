/**
 * Jest setupFilesAfterEnv: a file listed in SUITE_PARTS holds its parts of the test hosts from before its first test
 * to after its last, so the files Jest runs beside it in other workers see no change half-way.
 */
import { relative } from 'node:path';
import { useParts } from './suite-lock';
import { SUITE_PARTS } from './suite-parts';

const testPath = expect.getState().testPath;
const parts = testPath ? SUITE_PARTS[relative(`${__dirname}/../..`, testPath).split('\\').join('/')] : undefined;
if (parts) useParts(parts);
