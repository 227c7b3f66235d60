"""Peak PSS/RSS and CPU seconds of a service's process trees, sampled every 0.5 s.

Summed RSS counts a shared page once per process (PostgreSQL's shared buffers, a
forked worker's copy-on-write pages); PSS splits it among them, so compare on PSS.
A process born after sampling began counts from zero CPU; one already running counts
from its first sample; one that lives and dies between two samples is missed.
"""

from __future__ import annotations

import threading
import time

import psutil

from bench.summary import Sampled


class Sampler(threading.Thread):
    """Samples the trees rooted at `pids` until `stop()`; `result()` gives the figures."""

    def __init__(self, pids: list[int], interval_s: float = 0.5) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        self.pids = pids
        self.interval_s = interval_s
        self.began = time.time()
        self.peak_pss_b = 0
        self.peak_rss_b = 0
        self.peak_nproc = 0
        self.root_names: dict[int, str] = {}
        self.root_peak_pss_b: dict[int, int] = {}
        self.cpu_base: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.root_of: dict[int, int] = {}
        self._stop_event = threading.Event()

    def _tree(self, root: int) -> list[psutil.Process]:
        try:
            process = psutil.Process(root)
            self.root_names.setdefault(root, process.name())
            return [process, *process.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self) -> None:
        seen: set[int] = set()
        pss_b = rss_b = 0
        for root in self.pids:
            tree_pss_b = 0
            for process in self._tree(root):
                if process.pid in seen:
                    continue
                try:
                    with process.oneshot():
                        memory = process.memory_full_info()
                        times = process.cpu_times()
                        created = process.create_time()
                except psutil.Error:
                    continue
                seen.add(process.pid)
                cpu = times.user + times.system
                self.cpu_base.setdefault(process.pid, 0.0 if created > self.began else cpu)
                self.cpu_last[process.pid] = cpu
                self.root_of[process.pid] = root
                pss = getattr(memory, "pss", memory.rss)
                pss_b += pss
                rss_b += memory.rss
                tree_pss_b += pss
            self.root_peak_pss_b[root] = max(self.root_peak_pss_b.get(root, 0), tree_pss_b)
        self.peak_pss_b = max(self.peak_pss_b, pss_b)
        self.peak_rss_b = max(self.peak_rss_b, rss_b)
        self.peak_nproc = max(self.peak_nproc, len(seen))

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        """Take a last sample and end the thread."""
        self._stop_event.set()
        self.join(5)
        self.sample()

    def cpu_s(self, root: int | None = None) -> float:
        return sum(
            self.cpu_last[pid] - self.cpu_base[pid]
            for pid in self.cpu_last
            if root is None or self.root_of[pid] == root
        )

    def result(self) -> Sampled:
        if not self.pids:
            return Sampled()
        breakdown = {
            f"{self.root_names.get(root, '?')}:{root}": {
                "peak_pss_mb": round(self.root_peak_pss_b.get(root, 0) / 2**20, 1),
                "cpu_s": round(self.cpu_s(root), 2),
            }
            for root in self.pids
        }
        return Sampled(
            peak_pss_b=self.peak_pss_b,
            peak_rss_b=self.peak_rss_b,
            cpu_s=self.cpu_s(),
            peak_nproc=self.peak_nproc,
            breakdown=breakdown,
        )
