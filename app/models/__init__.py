"""Models for the app: preparing the shipped ones, describing them for the doctor, and (soon) the user's own.

Qt-free. What the engines need at load time (resolving a name or path, checking the files) stays in
:mod:`engines.models`; this package holds the rest:

- :mod:`app.models.prepare`: the one-time preparation of the shipped models (``visage setup-models``);
- :mod:`app.models.describe`: the doctor's model rows (``describe_models``, ``check_models``).

Layer (``.importlinter``): ``app.models`` sits beside ``app.store``, on top of ``app.core`` and
``engines``: it imports the core (errors, paths, the doctor's ``Check``) and the engines' resolvers, and
is imported only from above (``app.ui``, ``app.session``, the CLIs and composition roots). The core's
doctor therefore does not import it: ``app/cli.py`` builds the model lines with
:func:`app.models.describe.check_models` and hands them to :func:`app.core.doctor.run_checks`.
"""
