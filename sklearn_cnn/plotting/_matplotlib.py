"""What every Display shares: the matplotlib check and the axes it draws on."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_matplotlib_support", "panel_axes"]


def check_matplotlib_support(caller_name: str) -> None:
    """Raise an ImportError naming the ``plot`` extra if matplotlib is missing.

    scikit-learn's own check names ``pip install matplotlib``; ours names the
    extra that pins a version sklearn-cnn is tested with.

    Parameters
    ----------
    caller_name : str
        The Display method that needs matplotlib, for the message.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib, the `plot` extra: "
            "pip install 'sklearn-cnn[plot]'."
        ) from exc


def panel_axes(ax, n_panels: int, n_cols: int, *, panel_size=(2.0, 2.2), caller: str):
    """The figure and a grid of ``n_panels`` axes to draw on, as scikit-learn lays them out.

    As ``PartialDependenceDisplay.plot``: ``ax=None`` makes a new figure
    (sized for the grid); a single Axes is split into the grid and switched
    off (it is returned as the bounding axes); an array-like of axes is used
    as it is and must hold exactly ``n_panels`` of them.

    Parameters
    ----------
    ax : None, matplotlib Axes or array-like of Axes
        Where to draw.
    n_panels : int
        How many axes are needed.
    n_cols : int
        Columns of a new grid (fewer when there are fewer panels).
    panel_size : (float, float), default=(2.0, 2.2)
        Width and height in inches of one panel of a new figure.
    caller : str
        The Display, for error messages.

    Returns
    -------
    figure : matplotlib Figure
    axes : ndarray of Axes, shape (n_rows, n_cols)
        Grid cells past ``n_panels`` are switched off.
    bounding_ax : matplotlib Axes or None
        The axes that was split, None when ``ax`` was an array of axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpecFromSubplotSpec

    n_cols = max(1, min(n_cols, n_panels))
    n_rows = math.ceil(n_panels / n_cols)
    if ax is None:
        _, ax = plt.subplots(figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows),
                             layout="constrained")
    if isinstance(ax, plt.Axes):
        if not ax.axison:
            raise ValueError(
                f"{caller}: the ax was already split by another plot; pass "
                "ax=display.axes_ to draw on the same axes again."
            )
        if n_panels == 1:
            return ax.figure, np.array([[ax]], dtype=object), None
        ax.set_axis_off()
        figure = ax.figure
        grid = GridSpecFromSubplotSpec(n_rows, n_cols, subplot_spec=ax.get_subplotspec())
        axes = np.empty((n_rows, n_cols), dtype=object)
        for i, spec in enumerate(grid):
            axes.flat[i] = figure.add_subplot(spec)
            if i >= n_panels:
                axes.flat[i].set_axis_off()
        return figure, axes, ax
    axes = np.asarray(ax, dtype=object)
    if axes.size != n_panels:
        raise ValueError(
            f"{caller}: expected ax to hold {n_panels} axes, one per panel; got "
            f"{axes.size}."
        )
    return axes.flat[0].figure, axes.reshape(axes.shape if axes.ndim == 2 else (1, -1)), None
