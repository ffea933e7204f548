/**
 * Limits shared by the fuzzer's generator, checker and gateway config (test/helpers/pop3-fuzz.ts).
 */
export const COMMAND_LIMIT = 255;
export const MAX_BAD_COMMANDS = 4;
