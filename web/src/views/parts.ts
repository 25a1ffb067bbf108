// Pieces the views share: polling while a view is shown, and tables.
import { h, replace, type Child } from '../dom.ts';

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

/**
 * A polled view's content setter that leaves the DOM alone while the data is the same (so focus,
 * selection and scroll stay where the reader left them); relative times are refreshed each minute.
 */
export function showWhenChanged(el: Element): (data: unknown, build: () => Child) => void {
  let last = '';
  return (data, build) => {
    const key = JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) + Math.floor(Date.now() / 60_000);
    if (key === last) return;
    last = key;
    replace(el, build());
  };
}
