"""Fully controlled synthetic experiments of 002 §4.1 ("Content suppresses style").

Rusak, Reizinger, Zimmermann et al. train small encoders with InfoNCE on observations
``x = g(z)`` of known latents ``z`` (after Zimmermann et al. 2021, "Contrastive Learning Inverts
the Data Generating Process") and show that as soon as one latent is *content* (identical within
a positive pair) the trained encoder collapses the *style* latents (002 Fig. 1, Table 1).

- :mod:`.dgp`: latent samplers on the hyperbox and the hypersphere, the invertible mixing ``g``;
- :mod:`.encoders`: linear and MLP encoders that expose every intermediate activation;
- :mod:`.losses`: the ℓp-distance InfoNCE of Zimmermann et al. for the box (candidate for
  :mod:`sslbench.losses`) and the loss selector that reuses
  :func:`sslbench.losses.infonce.info_nce`;
- :mod:`.metrics`: adjusted R² of linear readouts, normalised singular values, and the
  alignment/uniformity decomposition of 002 eq. (1) (Table 1);
- :mod:`.train`: the seeded training loop;
- :mod:`.settings`: the setting keys, their defaults and :func:`~.settings.resolve_params`;
- :mod:`.experiment`: one job (train, then readouts, loss terms, spectrum) as
  :func:`~.experiment.run_experiment`.

The stage :mod:`sslbench.stages.collapse` runs one job and writes its JSON.
"""
