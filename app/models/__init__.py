"""Models for the app: preparing the shipped ones, describing them, and the user's own (list, add, download).

Qt-free. What the engines need at load time (resolving a name or path, checking the files) stays in
:mod:`engines.models`; this package holds the rest:

- :mod:`app.models.prepare`: the one-time preparation of the shipped models (``visage setup-models``);
- :mod:`app.models.describe`: the doctor's model rows (``describe_models``, ``check_models``);
- :mod:`app.models.manager`: ``ModelManager``, the user's models: list, add, remove, download;
- :mod:`app.models.download`: one HTTP(S) download with resume, sha256, redirect checks and cancel;
- :mod:`app.models.archive`: the safe extraction of a downloaded model archive;
- :mod:`app.models.disk`: the free-space check and the disk-full error they share;
- :mod:`app.models.catalogue`, :mod:`~app.models.catalogue_advice`, :mod:`~app.models.catalogue_install`:
  the curated catalogue (``assets/models/catalogue.toml``), what fits this machine, and installing an entry.

Layer (``.importlinter``): ``app.models`` sits beside ``app.store``, on top of ``app.core`` and
``engines``: it imports the core (errors, paths, urls, hardware, the doctor's ``Check``) and the
engines' resolvers, and is imported only from above (``app.ui``, the CLIs and composition roots, the
local API). The core's doctor therefore does not import it: ``app/cli.py`` builds the model lines with
:func:`app.models.describe.check_models` and hands them to :func:`app.core.doctor.run_checks`.
"""
