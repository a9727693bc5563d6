import { usageError } from "./cli-error.ts";

/**
 * Asks for a password on the terminal without echoing it. Without a terminal on stdin there is
 * nobody to ask: that is a usage error (give `--user name:password` or `--password`).
 *
 * @example
 * const password = await promptPassword("root");
 */
export function promptPassword(user: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return Promise.reject(usageError(`no password for user ${user}: give --password`));
  }
  process.stderr.write(`Password for ${user}: `);
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003") return finish(usageError("password prompt interrupted"));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
