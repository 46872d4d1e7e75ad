"""The ROI figures' refresh as an RQ job: the cron runs it every few minutes (prospects' campaign
changes) and the opportunities pull enqueues it by name when it stored something."""

import logging

from reports.roi import refresh_figures

log = logging.getLogger(__name__)


def refresh_roi_job() -> None:
    refresh = refresh_figures()
    log.info("ROI figures refreshed in %d ms", refresh.took_ms)
