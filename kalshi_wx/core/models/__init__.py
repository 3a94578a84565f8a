"""Short-horizon models of a bracket's next mid move: labels, features, day splits, training, scores.

The modules are imported one by one (``kalshi_wx.core.models.features``, ``.train``, ...): only
``train`` and ``metrics`` load scikit-learn, and only ``train`` loads xgboost, so the settings and
the feature list stay cheap to import for the config and the warehouse schemas.
"""
