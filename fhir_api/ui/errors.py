"""Errors of the web interface, answered as HTML pages (``pages.install_page_errors``); the API answers
OperationOutcomes."""

from __future__ import annotations


class PageError(Exception):
    """A page that cannot be shown: ``status`` and a message key of the catalogue (with its values)."""

    def __init__(self, status: int, message: str, /, **values: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.values = values


def not_found(message: str = "error.not_found", /, **values: object) -> PageError:
    return PageError(404, message, **values)
