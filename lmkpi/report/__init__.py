"""The monthly status report (HTML and PDF) on the published warehouse; see ``build_report``."""

from lmkpi.report.build import ReportFiles, build_report, latest_month, municipalities

__all__ = ["ReportFiles", "build_report", "latest_month", "municipalities"]
