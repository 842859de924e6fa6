"""hcc-nomogram: CT deep-learning signature and Cox nomograms for HCC survival.

Reproduces Zhang et al., "Deep Learning Predicts Overall Survival of Patients With
Unresectable Hepatocellular Carcinoma Treated by Transarterial Chemoembolization Plus
Sorafenib", Front. Oncol. 2020;10:593292, as a Kedro project.

Risk direction, everywhere in this package: a higher score / linear predictor means a
higher hazard, i.e. WORSE (shorter) survival.
"""

__version__ = "0.1.0"
