"""Order of the gallery: the introduction first, the walk-through last.

sphinx-gallery imports this by name (a function in ``conf.py`` could not be
cached by Sphinx). Examples not listed follow, by file name.
"""

ORDER = [
    "plot_manifold_digits.py",
    "plot_denoising.py",
    "plot_filters.py",
    "plot_vae.py",
    "plot_conditional_vae.py",
    "plot_adversarial.py",
    "plot_outlier_detection.py",
    "plot_few_labels.py",
    "plot_pipeline_gridsearch.py",
]


def example_order(filename):
    """Sort key of an example file name."""
    return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)
