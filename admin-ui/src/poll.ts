// Refreshing a page's figures: runs `task` now and then every `ms`, never two at once, until
// the returned function is called (the router calls it when another page is shown).
export function every(ms: number, task: () => Promise<void>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async (): Promise<void> => {
    try {
      await task();
    } finally {
      if (!stopped) timer = setTimeout(run, ms);
    }
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
