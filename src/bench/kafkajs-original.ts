import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';

/**
 * One of kafkajs's own modules (`kafkajs/src/...`), compiled from its file's text: through `require`
 * it may be ours already, since src/kafka/kafkajs.ts replaces some of them in the module cache. Its
 * own `require`s resolve beside it, so the modules it builds on are kafkajs's too (unless replaced).
 */
export function kafkajsOriginal<T>(module: string): T {
  const path = createRequire(import.meta.url).resolve(module);
  const loaded = { exports: undefined as unknown };
  const wrapper = runInThisContext(`(function (module, require) {${readFileSync(path, 'utf8')}\n})`) as (
    module: object,
    require: NodeJS.Require,
  ) => void;
  wrapper(loaded, createRequire(path));
  return loaded.exports as T;
}
