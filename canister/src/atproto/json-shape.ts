// A single pass over JSON text that measures it before anything parses it: bytes, nesting depth
// and number of values. Parsing, converting and validating cost work per value, so a caller that
// pays for that work checks the shape first and refuses what is too large.
export type JsonShapeLimits = { maxBytes: number; maxDepth: number; maxNodes: number };

/** Values (counting object keys) in `json`, and whether it nests deeper than `maxDepth`, stopping early past `maxNodes`. */
function measure(json: string, maxDepth: number, maxNodes: number): { nodes: number; tooDeep: boolean } {
  let depth = 0;
  let nodes = 1;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped unit
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      // a container is a value of its own (its first element is counted here too: an empty one is rare)
      if (++depth > maxDepth) return { nodes, tooDeep: true };
      if (++nodes > maxNodes) break;
    } else if (c === 0x5d || c === 0x7d) depth--;
    // each comma starts another value; each colon separates a key (a node of its own) from its value
    else if ((c === 0x2c || c === 0x3a) && ++nodes > maxNodes) break;
  }
  return { nodes, tooDeep: false };
}

/** Values in `json` (object keys count as values), for a budget shared by several documents. */
export const jsonNodes = (json: string): number => measure(json, Infinity, Infinity).nodes;

/** Why `json` exceeds `limits`, or null. Not a validator: malformed JSON is left to the parser. */
export function jsonShapeProblem(json: string, limits: JsonShapeLimits, what = 'the JSON'): string | null {
  // UTF-16 length bounds UTF-8 bytes from below; 3 bytes per unit bounds it from above.
  if (json.length > limits.maxBytes) return `${what} is longer than ${limits.maxBytes} bytes`;
  if (json.length * 3 > limits.maxBytes) {
    const bytes = new TextEncoder().encode(json).length;
    if (bytes > limits.maxBytes) return `${what} is ${bytes} bytes; the limit is ${limits.maxBytes}`;
  }
  const m = measure(json, limits.maxDepth, limits.maxNodes);
  if (m.tooDeep) return `${what} is nested deeper than ${limits.maxDepth} levels`;
  if (m.nodes > limits.maxNodes) return `${what} has more than ${limits.maxNodes} values`;
  return null;
}
