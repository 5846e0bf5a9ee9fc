"""No Django models: the binding key lives in samia_private.binding_key (rls 0002), out of the ORM's reach.

This module exists so that `migrate` sends post_migrate for this app (samia.rls.apps).
"""
