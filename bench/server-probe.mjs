// Loaded into a benchmarked Node server with `--import` (bench/lib/servers.ts does this for Parley and
// the node:http baselines). Plain JavaScript, so a server run from compiled JS needs no TypeScript
// loader for it. It answers the load generator over the IPC channel the benchmark opens; the server's
// own code is untouched:
//
//   { probe: 'sample' }             → cumulative GC time and bytes allocated since start, heap used, RSS
//   { probe: 'settle' }             → two full GCs, then heap used and RSS (memory per parked poll)
//   { probe: 'profile-start' }      → starts the V8 CPU profiler (one phase, not the whole run)
//   { probe: 'profile-stop', path } → stops it and writes the .cpuprofile to `path`
//   { probe: 'alloc-start' }        → starts V8's sampling heap profiler, counting objects the GC has
//                                     already collected too (every allocation, not only what survives)
//   { probe: 'alloc-stop', path }   → stops it and writes the .heapprofile to `path`
//
// GC time and allocation come from v8.GCProfiler: each GC reports its cost and the heap before and
// after, so bytes allocated = Σ (used before a GC − used after the previous one) + growth since then.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import v8 from 'node:v8';
import vm from 'node:vm';

if (typeof process.send === 'function') {
  let gcMs = 0;
  let allocated = 0;
  let lastUsed = v8.getHeapStatistics().used_heap_size;
  let profiler = new v8.GCProfiler();
  profiler.start();

  const restart = () => {
    const data = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    return data?.statistics ?? [];
  };

  /** Folds the GCs since the last call into the totals. */
  const account = () => {
    for (const gc of restart()) {
      gcMs += gc.cost / 1000;
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - lastUsed);
      lastUsed = gc.afterGC.heapStatistics.usedHeapSize;
    }
    const used = v8.getHeapStatistics().used_heap_size;
    allocated += Math.max(0, used - lastUsed);
    lastUsed = used;
  };

  v8.setFlagsFromString('--expose-gc');
  const fullGc = vm.runInNewContext('gc');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  const reply = (m) => void process.send?.(m);

  process.on('message', (msg) => {
    if (typeof msg !== 'object' || msg === null || typeof msg.probe !== 'string') return;
    switch (msg.probe) {
      case 'sample':
        account();
        reply({ probe: 'sample', gcMs, allocatedBytes: allocated, heapUsedBytes: lastUsed, rssBytes: process.memoryUsage.rss() });
        break;
      case 'settle':
        account();
        fullGc();
        fullGc();
        // The forced collections are the probe's, not the server's: keep them out of the totals.
        restart();
        lastUsed = v8.getHeapStatistics().used_heap_size;
        reply({ probe: 'settle', heapUsedBytes: lastUsed, rssBytes: process.memoryUsage.rss() });
        break;
      case 'profile-start':
        void post('Profiler.enable')
          .then(() => post('Profiler.start'))
          .then(() => reply({ probe: 'profile-start' }));
        break;
      case 'alloc-start':
        void post('HeapProfiler.enable')
          .then(() =>
            post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }),
          )
          .then(() => reply({ probe: 'alloc-start' }));
        break;
      case 'alloc-stop':
        void post('HeapProfiler.stopSampling').then((result) => {
          if (typeof msg.path === 'string') writeFileSync(msg.path, JSON.stringify(result.profile));
          reply({ probe: 'alloc-stop' });
        });
        break;
      case 'profile-stop':
        void post('Profiler.stop').then((result) => {
          if (typeof msg.path === 'string') writeFileSync(msg.path, JSON.stringify(result.profile));
          reply({ probe: 'profile-stop' });
        });
        break;
    }
  });
  // The channel must not keep the server alive, nor change how it stops.
  process.channel?.unref();
}
