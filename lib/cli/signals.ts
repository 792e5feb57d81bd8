/** The signals `husk run` passes on to the container, with their numbers. */
export const FORWARDED_SIGNALS = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
} as const satisfies Partial<Record<Deno.Signal, number>>;

/** Forwards each of FORWARDED_SIGNALS to `send` until the returned function is called. */
export function forwardSignals(send: (signal: number) => void): () => void {
  const listeners = Object.entries(FORWARDED_SIGNALS).map(([name, number]) => {
    const listener = () => send(number);
    Deno.addSignalListener(name as Deno.Signal, listener);
    return [name as Deno.Signal, listener] as const;
  });
  return () => listeners.forEach(([name, l]) => Deno.removeSignalListener(name, l));
}
