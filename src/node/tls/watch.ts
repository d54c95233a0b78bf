/**
 * File-system watches shared by several owners (the domains of a credential watcher): each owner says which
 * paths it wants watched; a path is watched once, by its resolved real path, for as long as any owner wants it.
 *
 * Paths are resolved with `realpath` before watching because inotify (and kqueue) follow a symbolic link when
 * the watch is added and then stay on the target: a watch on `certs/example.com.crt` would keep watching the old
 * file after `current` is swapped. Owners call {@link WatchSet.set} again after every change, so the watches move
 * to the new targets; missing paths are left out (the caller's polling covers them).
 *
 * Every event is only a hint: the callback receives the owners of the path, and the caller compares versions.
 *
 * @module node/tls/watch
 * @internal
 */
import { type FSWatcher, watch } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The paths to watch for a credential: the source's watch paths and the directories of the files themselves
 * (so a file replaced inside a version directory is seen); a file missing now is left out (polling covers it).
 * @internal
 */
export async function credentialWatchPaths(
  source: {
    watchPaths(name: string): Promise<string[]>;
    files(name: string): Promise<{ cert: string; key: string }>;
  },
  domain: string,
): Promise<string[]> {
  const paths = [...(await source.watchPaths(domain))];
  const files = await source.files(domain);
  for (const f of [files.cert, files.key]) {
    try {
      paths.push(dirname(await realpath(f)));
    } catch {
      // missing: polling covers it
    }
  }
  return paths;
}

/** Options of {@link WatchSet}. @internal */
export interface WatchSetOptions {
  /** Keep the event loop alive while watching (fs.watch `persistent`); default true. */
  persistent?: boolean;
  /** Called on every event with the owners of the path; `failed` when the watch broke and was dropped. */
  onChange: (owners: ReadonlySet<string>, path: string, failed: boolean) => void;
}

interface Watch {
  readonly watcher: FSWatcher;
  readonly owners: Set<string>;
}

/**
 * Reference-counted `fs.watch` handles keyed by real path.
 * @internal
 */
export class WatchSet {
  readonly #watches = new Map<string, Watch>();
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #persistent: boolean;
  readonly #onChange: WatchSetOptions['onChange'];
  #closed = false;
  #failures = 0;

  constructor(options: WatchSetOptions) {
    this.#persistent = options.persistent ?? true;
    this.#onChange = options.onChange;
  }

  /** Number of open `fs.watch` handles. */
  get size(): number {
    return this.#watches.size;
  }

  /** Watches that could not be added (ENOSPC from the inotify limit, a path removed meanwhile...). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Makes `owner` watch exactly `paths` (after resolving them; missing ones are left out), releasing the paths
   * it no longer wants.
   */
  async set(owner: string, paths: readonly string[]): Promise<void> {
    const wanted = new Set<string>();
    for (const p of paths) {
      try {
        wanted.add(await realpath(p));
      } catch {
        // missing, or not readable: polling covers it
      }
    }
    if (this.#closed) return;
    const had = this.#byOwner.get(owner) ?? new Set<string>();
    for (const path of had) if (!wanted.has(path)) this.#release(owner, path);
    const now = new Set<string>();
    for (const path of wanted) if (this.#acquire(owner, path)) now.add(path);
    if (now.size === 0) this.#byOwner.delete(owner);
    else this.#byOwner.set(owner, now);
  }

  /** Releases every path of an owner. */
  release(owner: string): void {
    for (const path of this.#byOwner.get(owner) ?? []) this.#release(owner, path);
    this.#byOwner.delete(owner);
  }

  /** Closes every watch; later calls to {@link WatchSet.set} do nothing. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watches.values()) w.watcher.close();
    this.#watches.clear();
    this.#byOwner.clear();
  }

  #acquire(owner: string, path: string): boolean {
    const existing = this.#watches.get(path);
    if (existing) {
      existing.owners.add(owner);
      return true;
    }
    let watcher: FSWatcher;
    try {
      watcher = watch(path, { persistent: this.#persistent }, () => this.#fire(path));
    } catch {
      this.#failures++;
      return false;
    }
    const entry: Watch = { watcher, owners: new Set([owner]) };
    // A watch that fails (its directory removed on some platforms, EPERM) is dropped; the owners are told, so
    // their next check re-adds watches on the current paths.
    watcher.on('error', () => {
      if (this.#watches.get(path) !== entry) return;
      this.#failures++;
      watcher.close();
      this.#watches.delete(path);
      for (const o of entry.owners) this.#byOwner.get(o)?.delete(path);
      this.#onChange(entry.owners, path, true);
    });
    this.#watches.set(path, entry);
    return true;
  }

  #release(owner: string, path: string): void {
    const entry = this.#watches.get(path);
    if (!entry) return;
    entry.owners.delete(owner);
    if (entry.owners.size === 0) {
      entry.watcher.close();
      this.#watches.delete(path);
    }
  }

  #fire(path: string): void {
    const entry = this.#watches.get(path);
    if (entry && !this.#closed) this.#onChange(entry.owners, path, false);
  }
}
