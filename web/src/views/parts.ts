// Pieces the views share: polling while a view is shown, and tables.
import { h } from '../dom.ts';

/** Views refresh this often while shown, so changes made elsewhere appear without a reload. */
export const POLL_MS = 3000;

export const table = (head: string[], rows: (Node | string)[][]) =>
  h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));

/** Runs `load` now and every POLL_MS until the view is left; a failing poll is shown, not fatal. */
export function poll(load: () => Promise<void>, signal: AbortSignal, onError: (err: unknown) => void): void {
  const run = async () => {
    if (signal.aborted) return;
    try {
      await load();
    } catch (err) {
      if (!signal.aborted) onError(err);
    }
    if (!signal.aborted) setTimeout(run, POLL_MS);
  };
  void run();
}
