/** Runs a bench module's `main` when the module is started directly: exit 0 when done, 1 with the error. */
export function runStandalone(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
