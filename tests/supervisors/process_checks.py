"""Checks on the OS processes the isolation tests start (importable by name, as
``isolated_probe`` is: tests/supervisors is on the tests' sys.path)."""

from __future__ import annotations

from multiprocessing import resource_tracker

import psutil


def gone(pid: int) -> bool:
    """No process ``pid`` (neither running nor a zombie waiting to be reaped)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_DEAD
    except psutil.NoSuchProcess:
        return True


def dead(pid: int) -> bool:
    """``pid`` is gone or a zombie (dead, waiting for init, not us, to reap it)."""
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


def child_processes() -> list[psutil.Process]:
    """This process's children, but multiprocessing's resource tracker (started once, by
    the first spawn, for the life of this process)."""
    tracker = resource_tracker._resource_tracker._pid  # type: ignore[attr-defined]
    return [child for child in psutil.Process().children() if child.pid != tracker]


def left_behind() -> list[str]:
    """Children still there, zombies included, as "pid (status)"."""
    left = []
    for child in child_processes():
        try:
            left.append(f"{child.pid} ({child.status()})")
        except psutil.NoSuchProcess:
            continue
    return left
