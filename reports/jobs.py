"""The ROI figures' refresh as RQ jobs: the cron runs the whole refresh every few minutes
(prospects' campaign changes); the opportunities pull enqueues the credits' refresh by name when
it stored something (it changes opportunities and their links, never the prospect counts)."""

import logging

from reports.roi import refresh_figures

log = logging.getLogger(__name__)


def refresh_roi_job() -> None:
    refresh = refresh_figures()
    log.info("ROI figures refreshed in %d ms", refresh.took_ms)


def refresh_roi_credits_job() -> None:
    refresh = refresh_figures(prospects=False)
    log.info("ROI opportunity credits refreshed in %d ms", refresh.took_ms)
