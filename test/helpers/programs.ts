/** Tests that need an external program fail with a clear message when it is missing; they never skip. */
import { execFileSync } from 'node:child_process';

export function requireProgram(name: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `this test needs the program "${name}", which is not installed. Install the test dependencies: sudo bash scripts/install-test-deps.sh (see README "Running the tests")`,
    );
  }
}
