/* The browser script; uPlot comes from /assets/uPlot.iife.min.js. */
// The kappa dashboard: polls the API every 2 s and draws, per shown version, events per user per
// window. During a recovery the serving version and the newest other one are shown side by side.
(function () {
  'use strict';
  const COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#e8590c', '#1098ad', '#5c940d', '#c2255c'];
  const charts = new Map();

  async function json(url) {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function shown(versions) {
    const serving = versions.find((version) => version.serving);
    const others = versions.filter((version) => !version.serving && version.state !== 'retired');
    const newest = others[others.length - 1];
    const picked = [serving, newest].filter(Boolean);
    return picked.length > 0 ? picked : versions.slice(-1);
  }

  function duration(seconds) {
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    const minutes = Math.floor(seconds / 60);
    return minutes < 60
      ? `${minutes} min ${Math.round(seconds % 60)} s`
      : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  /** A candidate's plan (issue 26): time left while it catches up, and the late events it will recover. */
  function planCells(version) {
    const plan = version.plan;
    if (plan === undefined || version.serving || version.state === 'retired') return ['', ''];
    let eta = '–';
    if (version.state !== 'catching-up') eta = 'caught up';
    else if (plan.etaSeconds !== null)
      eta = `~${duration(plan.etaSeconds)}${plan.ratePerSecond === null ? ' (plan)' : ` at ${plan.ratePerSecond.toLocaleString('en-US')}/s`}`;
    const recovered =
      plan.expectedRecovered === null
        ? plan.expectedLate === null
          ? '–'
          : `${plan.expectedLate.toLocaleString('en-US')} late`
        : `${plan.expectedRecovered.toLocaleString('en-US')} (vs ${plan.comparedWith})`;
    return [eta, recovered];
  }

  function renderVersions(versions) {
    const body = document.querySelector('#versions tbody');
    body.replaceChildren(
      ...versions.map((version) => {
        const row = document.createElement('tr');
        row.dataset.version = version.version;
        if (version.serving) row.className = 'serving';
        const cells = [
          version.version,
          version.state,
          String(version.lag),
          version.watermark ?? '–',
          String(version.lateEvents),
          `${version.settings.sizeMs / 1000} s / ${version.settings.delayMs / 1000} s`,
        ];
        const [eta, recovered] = planCells(version);
        row.replaceChildren(
          ...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })),
          Object.assign(document.createElement('td'), { className: 'plan-eta', textContent: eta }),
          Object.assign(document.createElement('td'), { className: 'plan-recovered', textContent: recovered }),
        );
        if (typeof version.plan?.expectedRecovered === 'number')
          row.dataset.expectedRecovered = String(version.plan.expectedRecovered);
        return row;
      }),
    );
  }

  /** rows → uPlot data: x = window starts (seconds), one series per user. */
  function toData(rows) {
    const starts = [...new Set(rows.map((row) => Date.parse(row.window_start) / 1000))].sort((a, b) => a - b);
    const users = [...new Set(rows.map((row) => row.key))].sort();
    const index = new Map(starts.map((start, position) => [start, position]));
    const series = users.map(() => starts.map(() => null));
    for (const row of rows) series[users.indexOf(row.key)][index.get(Date.parse(row.window_start) / 1000)] = row.count;
    return { users, data: [starts, ...series] };
  }

  function draw(version, rows) {
    const { users, data } = toData(rows);
    const key = `${version}:${users.join('|')}`;
    let entry = charts.get(version);
    if (entry === undefined || entry.key !== key) {
      entry?.plot.destroy();
      entry?.box.remove();
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.version = version;
      box.append(Object.assign(document.createElement('h2'), { textContent: `events_users_${version}` }));
      document.querySelector('#charts').append(box);
      const options = {
        width: 640,
        height: 300,
        scales: { x: { time: true } },
        series: [
          {},
          ...users.map((user, position) => ({
            label: user,
            stroke: COLORS[position % COLORS.length],
            width: 2,
            points: { show: true },
          })),
        ],
        axes: [{}, { label: 'events per window' }],
      };
      entry = { key, box, plot: new uPlot(options, data, box) };
      charts.set(version, entry);
    } else {
      entry.plot.setData(data);
    }
    entry.box.dataset.points = String(rows.length);
  }

  // --- Lateness: late events per watermark delay (GET /api/lateness), the versions' own counts beside it.
  const DELAYS_MS = [0, 5e3, 10e3, 15e3, 20e3, 30e3, 45e3, 60e3, 90e3, 120e3, 300e3, 600e3, 1800e3, 3600e3];
  let lateness = { plot: undefined, key: '', lastAsked: 0 };

  /** The server answers delays with at most three significant digits in ms exactly (see src/lateness/histogram.ts). */
  function exact(ms) {
    let step = 1;
    while (ms >= 1000 * step) step *= 10;
    return Number.isInteger(ms) && ms >= 0 && ms % (ms < 1000 ? 1 : step) === 0;
  }

  function seconds(ms) {
    if (ms >= 3600000 && ms % 3600000 === 0) return `${ms / 3600000}h`;
    return ms % 60000 === 0 && ms >= 60000 ? `${ms / 60000}m` : `${ms / 1000}s`;
  }

  async function refreshLateness(versions) {
    if (Date.now() - lateness.lastAsked < 5000) return;
    lateness.lastAsked = Date.now();
    const basis = versions.find((version) => version.serving) ?? versions[versions.length - 1];
    const params = new URLSearchParams();
    if (basis !== undefined) {
      params.set('window', `${basis.settings.sizeMs}ms`);
      params.set('slide', `${basis.settings.slideMs}ms`);
    }
    const same = versions.filter(
      (version) =>
        basis !== undefined &&
        version.settings.sizeMs === basis.settings.sizeMs &&
        version.settings.slideMs === basis.settings.slideMs,
    );
    const delays = [...new Set([...DELAYS_MS, ...same.map((version) => version.settings.delayMs).filter(exact)])];
    params.set('delays', delays.map((ms) => `${ms}ms`).join(','));
    const answer = await json(`/api/lateness?${params}`);
    const summary = document.querySelector('#lateness-summary');
    const section = document.querySelector('#lateness');
    section.dataset.state = answer.state;
    const doc = answer.document;
    if (doc === null) {
      summary.textContent = answer.error ? `lateness unavailable: ${answer.error}` : 'reading the stages log…';
      return;
    }
    const costs = doc.delays;
    const x = costs.map((_, index) => index);
    const late = costs.map((cost) => cost.lateEvents);
    const lateWindows = costs.map((cost) => cost.lateWindows);
    // Each version's own late count (kappa status), at its watermark: the two must agree once it has caught up.
    const reported = costs.map((cost) => {
      const version = same.find((candidate) => candidate.settings.delayMs === cost.delayMs);
      return version === undefined ? null : version.lateEvents;
    });
    const labels = costs.map((cost) => seconds(cost.delayMs));
    const key = labels.join(',');
    const data = [x, late, lateWindows, reported];
    if (lateness.plot === undefined || lateness.key !== key) {
      lateness.plot?.destroy();
      document.querySelector('#lateness-chart')?.remove();
      const box = Object.assign(document.createElement('div'), { id: 'lateness-chart', className: 'chart' });
      summary.before(box);
      lateness.plot = new uPlot(
        {
          width: 640,
          height: 260,
          scales: { x: { time: false } },
          series: [
            { label: 'delay', value: (_, index) => labels[index] ?? '' },
            { label: 'late events', stroke: '#d9480f', width: 2, points: { show: true } },
            { label: 'late windows', stroke: '#ae3ec9', width: 1, dash: [4, 4] },
            {
              label: 'versions (status)',
              stroke: '#1b8a3a',
              width: 0,
              points: { show: true, size: 10, fill: '#1b8a3a' },
            },
          ],
          axes: [
            {
              // One tick per delay asked for: the x axis is the list, not a time scale.
              splits: () => x,
              values: (_, ticks) => ticks.map((tick) => labels[tick] ?? ''),
              label: 'watermark delay',
            },
            { label: 'late' },
          ],
        },
        data,
        box,
      );
      lateness.key = key;
    } else {
      lateness.plot.setData(data);
    }
    const box = document.querySelector('#lateness-chart');
    box.dataset.points = String(costs.length);
    box.dataset.events = String(doc.events);
    const offsets = doc.offsets.map((entry) => `${entry.partition}:${entry.next}`).join(' ');
    const pct = (doc.target * 100).toPrecision(2).replace(/\.?0+$/, '');
    summary.textContent =
      `${doc.events.toLocaleString('en-US')} events of ${doc.topic} (offsets ${offsets}), window ${seconds(doc.windows.sizeMs)}: ` +
      `p99 lateness ${seconds(doc.overall.p99)}, max ${seconds(doc.overall.max)}; ` +
      `≤ ${pct} % late needs a watermark of ${seconds(doc.recommendedMs)}`;
  }

  /** The pair compared: the first shadow, else the serving version and the newest other live one. */
  async function diffPair(versions) {
    const { pairs } = await json('/api/shadows');
    if (pairs.length > 0) return pairs[0];
    const [serving, other] = shown(versions);
    return serving !== undefined && other !== undefined && serving.serving
      ? { from: serving.version, to: other.version }
      : undefined;
  }

  function cells(row, texts) {
    row.replaceChildren(...texts.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    return row;
  }

  const signed = (n) => (n > 0 ? `+${n}` : String(n));

  /** Both versions' totals per window closed in both, and the differing rows, marked explained or not. */
  async function refreshDiff(versions) {
    const section = document.querySelector('#shadow-diff');
    const pair = await diffPair(versions);
    if (pair === undefined) {
      section.hidden = true;
      return;
    }
    const answer = await json(
      `/api/diff?from=${encodeURIComponent(pair.from)}&to=${encodeURIComponent(pair.to)}&dim=users`,
    );
    section.hidden = false;
    section.dataset.state = answer.state;
    document.querySelector('#diff-pair').textContent = `${answer.from} → ${answer.to}`;
    for (const cell of section.querySelectorAll('th.from')) cell.textContent = answer.from;
    for (const cell of section.querySelectorAll('th.to')) cell.textContent = answer.to;
    const users = answer.dims[0];
    if (users === undefined) {
      document.querySelector('#diff-summary').textContent = answer.error ?? 'comparing…';
      return;
    }
    document.querySelector('#diff-summary').textContent =
      `windows closed in both (through ${answer.comparedThrough ?? '–'}): ${users.differing} rows differ, ` +
      `${users.onlyFrom} only in ${answer.from}, ${users.onlyTo} only in ${answer.to}; total ${users.totalFrom} → ${users.totalTo} ` +
      `(${signed(users.totalTo - users.totalFrom)}); ${users.explained} explained by lateness, ${users.unexplained} not` +
      (answer.error ? ` — ${answer.error}` : '');
    document.querySelector('#diff-windows tbody').replaceChildren(
      ...users.windows.slice(0, 30).map((window) => {
        const row = cells(document.createElement('tr'), [
          window.windowStart,
          String(window.from),
          String(window.to),
          signed(window.to - window.from),
        ]);
        if (window.to !== window.from) row.className = 'differs';
        return row;
      }),
    );
    document.querySelector('#diff-rows tbody').replaceChildren(
      ...users.rows.slice(0, 50).map((entry) => {
        const row = cells(document.createElement('tr'), [
          entry.key,
          entry.windowStart,
          String(entry.from),
          String(entry.to),
          signed(entry.to - entry.from),
          entry.explained === null ? '…' : entry.explained ? 'yes (lateness)' : 'NO',
        ]);
        row.dataset.explained = String(entry.explained);
        row.title = `kappa explain ${answer.from} ${answer.to} users "${entry.key}" ${entry.windowStart}`;
        return row;
      }),
    );
  }

  async function refresh() {
    const status = document.querySelector('#status');
    try {
      const { versions } = await json('/api/versions');
      renderVersions(versions);
      await refreshLateness(versions).catch((error) => {
        document.querySelector('#lateness-summary').textContent = `lateness unavailable: ${error.message}`;
      });
      await refreshDiff(versions).catch((error) => {
        document.querySelector('#diff-summary').textContent = `diff unavailable: ${error.message}`;
      });
      const wanted = shown(versions);
      for (const [version, entry] of charts) {
        if (!wanted.some((shownVersion) => shownVersion.version === version)) {
          entry.plot.destroy();
          entry.box.remove();
          charts.delete(version);
        }
      }
      for (const version of wanted) {
        const { rows } = await json(`/api/windows/users?version=${encodeURIComponent(version.version)}&limit=2000`);
        draw(version.version, rows);
      }
      status.textContent = versions.length === 0 ? 'no job versions yet' : `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      status.textContent = `waiting for the API: ${error.message}`;
    }
  }

  refresh();
  setInterval(refresh, 2000);
})();
