"""submodels"""
