"""Article pages rendered in a second process: the same outputs, in the same order, as in one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import syndicate.render as render
from syndicate.config import Config
from syndicate.errors import ConfigError
from syndicate.pipeline import build_editions, read_inputs
from syndicate.render import iter_render
from syndicate.render.theme import Theme


@pytest.fixture(autouse=True)
def _always_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 12 pages here are below the threshold where a worker process pays off: use one anyway."""
    monkeypatch.setattr(render, "_PARALLEL_MIN", 0)


@pytest.fixture
def editions(source_only_config: Config) -> tuple[Config, list]:  # type: ignore[type-arg]
    articles, _ = read_inputs(source_only_config)
    # the same articles once more as a second edition, so there are two editions of pages
    spanish = [a.replace(language="es", id=a.id + "-es") for a in articles]
    return source_only_config, build_editions(source_only_config.site, [*articles, *spanish])


@pytest.mark.parametrize("batch", [1, 2, 200])
def test_one_and_two_workers_give_the_same_outputs_in_the_same_order(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    batch: int,  # type: ignore[type-arg]
) -> None:
    config, eds = editions
    monkeypatch.setattr(render, "_BATCH", batch)  # pages per task: 1 and 2 exercise the look-ahead window
    one = list(iter_render(config.site, eds, max_items=4, workers=1))
    two = list(iter_render(config.site, eds, max_items=4, workers=2))
    assert [path for path, _, _ in one] == [path for path, _, _ in two]
    assert one == two
    pages = [path for path, _, data in one if "/articles/" in path and data]
    assert len(pages) == 12 and {p.split("/")[0] for p in pages} == {"en", "es"}


def test_the_pages_are_rendered_in_another_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    config, eds = editions
    record, real = tmp_path / "pids", html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    list(iter_render(config.site, eds, workers=2))
    pids = set(record.read_text().split())
    assert len(record.read_text().split()) == 12 and str(os.getpid()) not in pids


def test_unchanged_outputs_are_skipped_the_same_way(editions: tuple[Config, list]) -> None:  # type: ignore[type-arg]
    config, eds = editions
    first = list(iter_render(config.site, eds, workers=1))
    previous = {path: key for path, key, _ in first if path.startswith("es/")}
    one = list(iter_render(config.site, eds, previous=previous, workers=1))
    two = list(iter_render(config.site, eds, previous=previous, workers=2))
    assert one == two
    assert all(data is None for path, _, data in two if path.startswith("es/"))
    assert all(data is not None for path, _, data in two if path.startswith("en/articles/"))


def test_a_template_error_in_a_worker_is_the_same_one_line_error(
    editions: tuple[Config, list],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    config, eds = editions
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "article.html").write_text("{{ article.nope.deeper }}", encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(ConfigError) as info:
            list(iter_render(config.site, eds, theme=Theme(tmp_path), workers=workers))
        errors.append(info.value.message)
    assert errors[0] == errors[1] and "article.html" in errors[0]


def test_a_worker_that_dies_leaves_its_pages_to_the_main_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    config, eds = editions
    expected = list(iter_render(config.site, eds, workers=1))
    parent, real = os.getpid(), html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        if os.getpid() != parent:
            os._exit(9)  # killed (out of memory, a signal) in the middle of a batch
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    assert list(iter_render(config.site, eds, workers=2)) == expected


def test_a_few_pages_to_render_stay_in_this_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    monkeypatch.setattr(render, "_PARALLEL_MIN", 400)
    config, eds = editions
    record, real = tmp_path / "pids", html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    two = list(iter_render(config.site, eds, workers=2))
    assert set(record.read_text().split()) == {str(os.getpid())}
    monkeypatch.setattr(html, "article_page", real)
    assert two == list(iter_render(config.site, eds, workers=1))
