/**
 * The hidden verb `check` runs inside a throwaway network namespace (sandbox.ts); kept apart so the CLI's verb
 * table can name it without loading the sandbox's code.
 */
export const SANDBOX_VERB = '__sandbox-test';
