"""Letters: a 3-page letter's render time against WeasyPrint on the same HTML, and archiving 100
letters with 2 worker processes (throughput and peak memory).

Figures (JSON lines, each with a baseline measured in this run):
- letters.render_3_pages: render_letter() (HTML from the template + WeasyPrint PDF/A-3u with the
  attachment embedded); baseline WeasyPrint writing the same HTML directly with the same fonts.
- letters.archive_3_pages: the whole archive step for one letter (render, pypdf text check,
  SHA-256, write-then-rename); baseline the same WeasyPrint call.
- letters.archive_100_x2_workers: letters archived per second by 2 worker processes; baseline
  the same task run in one process.
- letters.archive_peak_rss: the largest worker's peak RSS while archiving; baseline a worker's
  RSS after Django start-up, before any letter.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time

from harness import emit, fresh_postgres_url, setup_django, timed

LETTERS = int(os.environ.get("BENCH_LETTERS", "100"))
WORKERS = 2
LONG = (
    "物业服务企业应当按照合同约定对房屋及配套设施设备和相关场地进行维修养护管理维护环境卫生和相关秩序，"
    "协助做好安全防范工作，并接受业主监督，定期公布服务事项、收费项目、标准以及履行情况。"
)


def _status_mb(field: str) -> float:
    """VmRSS / VmHWM of this process from /proc (Linux), in MB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _reset_peak() -> None:
    # A forked child inherits the parent's high-water mark; "5" resets it (Linux >= 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def make_letters(n: int, *, repeat: int = 1, prefix: str = "bench") -> list[int]:
    """Signed letters, created the quick way (no workflow), archives not yet run."""
    from django.db import transaction

    from letters import services
    from letters.testing import draft_letter
    from portal.demo import seed_organisation
    from portal.models import Department, User

    seed_organisation(log=lambda *a: None)
    org = type("Org", (), {})()
    org.users = {u.username: u for u in User.objects.all()}
    org.depts = {d.code: d for d in Department.objects.all()}
    services.queue_archive = lambda pk: None  # the benchmark runs the archive itself
    ids = []
    for i in range(n):
        with transaction.atomic():
            letter = draft_letter(
                org,
                slug=f"{prefix}-{repeat}-{i}",
                cc=("quality",),
                background="\n".join([LONG] * repeat),
                requests="\n".join(f"{k}. {LONG}" for k in range(1, repeat + 1)),
                contact="马超，0571-8800 1006",
                attachments=[("时间安排表", "schedule.csv", "楼栋,日期\n1号楼,周一\n".encode())],
            )
            letter.get_latest_revision().publish(skip_permission_checks=True)
            services.issue_letter(letter, signer=org.users["leader"])
        ids.append(letter.pk)
    return ids


def _worker(database_url, private_root, queue, ready, go, results):
    """A fresh interpreter like a qcluster worker: Django start-up, then tasks off the queue."""
    import sys

    from harness import ROOT

    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.core.files.storage import storages

    # The test settings make a fresh temporary directory per process: point the (already built)
    # private storage at the parent's.
    storage = storages["private"]
    storage._location = private_root
    for cached in ("base_location", "location"):
        storage.__dict__.pop(cached, None)
    # Tasks other apps queue from their signal handlers (search indexing of the audit-log entry,
    # notification delivery) would run inline under the test settings' sync broker and be
    # counted here; in production they run as their own tasks. Measure the archive task alone.
    import django_q.tasks

    django_q.tasks.async_task = lambda *args, **kwargs: None
    from letters.tasks import archive_letter

    ready.put(_rss_mb())
    go.wait()
    _reset_peak()
    done, samples = 0, []
    while True:
        pk = queue.get()
        if pk is None:
            break
        archive_letter(pk)
        done += 1
        samples.append(round(_rss_mb()))
    results.put((done, _status_mb("VmHWM"), samples))


def archive_with_workers(database_url: str, ids: list[int], workers: int) -> tuple[float, float, float]:
    """Seconds to archive ``ids`` with ``workers`` processes, their peak and start-up RSS (MB)."""
    from django.conf import settings

    private_root = settings.STORAGES["private"]["OPTIONS"]["location"]
    ctx = mp.get_context("spawn")
    queue, ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    for pk in ids:
        queue.put(pk)
    for _ in range(workers):
        queue.put(None)
    procs = [ctx.Process(target=_worker, args=(database_url, private_root, queue, ready, go, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    startup = max(ready.get(timeout=300) for _ in procs)
    start = time.perf_counter()
    go.set()
    outcomes = [results.get(timeout=900) for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    assert sum(o[0] for o in outcomes) == len(ids), outcomes
    if os.environ.get("BENCH_VERBOSE"):
        print("rss samples per worker (MB):", [o[2] for o in outcomes], flush=True)
    return elapsed, max(o[1] for o in outcomes), startup


def main():
    url = setup_django(database_url=fresh_postgres_url("bench_letters"))
    import weasyprint

    from letters.archive import archive_letter
    from letters.models import ArchiveStatus, LetterArchive, LetterPage
    from letters.pdf import letter_html, render_letter

    # 1. A 3-page letter: our render against WeasyPrint on the same HTML.
    for repeat in (4, 5, 3, 6):  # paragraphs per section that make exactly three pages
        [pk] = make_letters(1, repeat=repeat, prefix="three-pages")
        letter = LetterPage.objects.get(pk=pk)
        rendered = render_letter(letter)  # also warms font caches for both measurements
        if rendered.pages == 3:
            break
    assert rendered.pages == 3, rendered.pages
    html = letter_html(letter)

    from weasyprint.text.fonts import FontConfiguration

    from letters.fonts import bundled_css

    # The same fonts for the baseline: without the shipped faces it would draw boxes (cheaper).
    font_config = FontConfiguration()
    faces = weasyprint.CSS(string=bundled_css(), font_config=font_config)

    def weasy_direct():
        weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/a-3u", stylesheets=[faces], font_config=font_config)

    ours = timed(lambda: render_letter(letter), repeat=3)
    direct = timed(weasy_direct, repeat=3)
    emit("letters.render_3_pages", ours, "s", direct, pages=rendered.pages, limit_s=2.0, limit_ratio=1.3)
    start = time.perf_counter()
    archive_letter(pk)
    emit("letters.archive_3_pages", time.perf_counter() - start, "s", direct, includes="render+text check+sha256+store")

    # 2. 100 one/two-page letters archived by 2 worker processes vs. one process.
    ids = make_letters(LETTERS + 10)
    from django.db import connections

    connections.close_all()
    single, _peak, _ = archive_with_workers(url, ids[:10], 1)
    elapsed, peak, baseline_rss = archive_with_workers(url, ids[10:], WORKERS)
    done = LetterArchive.objects.filter(letter_id__in=ids[10:], status=ArchiveStatus.DONE).count()
    assert done == LETTERS, done
    emit(
        f"letters.archive_{LETTERS}_x{WORKERS}_workers",
        LETTERS / elapsed,
        "letters/s",
        10 / single,
        seconds=round(elapsed, 2),
        baseline_is="1 worker, 10 letters",
    )
    emit("letters.archive_peak_rss", peak, "MB", baseline_rss, baseline_is="worker RSS after start-up")


if __name__ == "__main__":
    main()
