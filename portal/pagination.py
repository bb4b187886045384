"""Paging through a select statement."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func
from sqlalchemy import select as sa_select

from portal import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(statement, page: int, per_page: int = 25) -> Page:
    session = db.session()
    total = session.exec(sa_select(func.count()).select_from(statement.order_by(None).subquery())).one()[0]
    page = min(max(1, page), max(1, ceil(total / per_page)))
    items = session.exec(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), page, per_page, total)


def sort_by(statement, requested: str | None, columns: dict, default: str):
    """Order ``statement`` by one of ``columns`` (name -> column); ``-name`` sorts descending.

    Returns the statement and the sort key actually used (unknown keys fall back to ``default``),
    so a template can mark the sorted column (``aria-sort``)."""
    key = requested if requested and requested.lstrip("-") in columns else default
    column = columns[key.lstrip("-")]
    return statement.order_by(column.desc() if key.startswith("-") else column.asc()), key


def page_of_list(items: list, page: int, per_page: int = 25) -> Page:
    """A page of a list that was built in Python (a page past the end shows the last one)."""
    total = len(items)
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    return Page(items[(page - 1) * per_page: page * per_page], page, per_page, total)
