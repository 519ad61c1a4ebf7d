"""The graded questions of HW3: what the autograder scores (points, the functions, what
is checked) and what it leaves to human graders (the written answers, with a rubric).

Each autograded question is all or nothing: it passes when every one of its checks
passes, and its feedback lists each failed check with the numbers. A wrong function
therefore costs exactly its own question (the probes isolate the questions, see
:mod:`course_staff.probes`).
"""
from collections import OrderedDict

#: id -> (handout section, points, functions written by the student, checks)
AUTOGRADED = OrderedDict([
    ("q4_2_attributions", ("4.2", 15, ["AumannShapley.get_attributions",
                            "AumannShapley.average_gradients", "AumannShapley._adaptive",
                            "AumannShapley._weighted_sums", "AumannShapley._path_sums"],
                           "attributions at the pixels and at conv4_1, with a zero and a "
                           "random baseline, and the influence (ignore_difference_term) equal "
                           "the reference's right Riemann sum (IG eq. 3); completeness gap no "
                           "larger than the reference's; IG toward the true class puts more "
                           "than chance of its positive mass on the synthetic world's "
                           "object masks")),
    ("q5_1_absolute", ("5.1", 5, ["ExplanationForLayer.absolute", "ClassQoI.weights"],
                       "Q = s_c at conv4_1 and at the pixels: its values and its "
                       "attributions equal the reference's")),
    ("q5_2_slices", ("5.2", 4, ["ExplanationForLayer.h", "ExplanationForLayer.g",
                                "ExplanationForQuantity.explain"],
                     "h(x) and g(z) at conv4_1, h at the input slice, and the per-instance "
                     "explanation equal the reference's")),
    ("q5_2_class", ("5.2", 4, ["ExplanationForQuantity.explain_class"],
                    "the class-wide explanation equals the reference's and is the mean of "
                    "the per-instance explanations")),
    ("q5_2_top_neurons", ("3.2, 5.2", 4, ["top_neurons", "neuron_scores"],
                          "the top neurons of an attribution, ranked by each map's max "
                          "(handout 3.2), in order")),
    ("q6_1_comparative", ("6.1", 5, ["ExplanationForLayer.comparative",
                                     "ComparativeQoI.weights"],
                          "Q = s_c1 - s_c2: values and attributions equal the reference's; "
                          "linear (Q = s_c1 - s_c2 of the scores, attribution = difference of "
                          "the two classes' attributions); the top conv4_1 neuron of the "
                          "sports car vs convertible explanation puts more than chance of "
                          "its pixel attribution on the synthetic roofs")),
    ("q7_compress", ("7", 5, ["compress", "masked_scores"],
                     "the compressed model's scores g(m * z) and predictions equal the "
                     "reference's")),
    ("q7_recall_precision", ("7", 5, ["recall", "precision"],
                             "recall and precision of binary classifiers equal the "
                             "reference's")),
])

#: Written answers and figures, for human graders: (section, points, rubric).
MANUAL = [
    ("4.1", 5, "QoI = the output quantity being explained (e.g. a class score), DoI = the "
               "distribution of inputs over which influence is averaged; 'neuron 0 toward "
               "cat': QoI s_cat, DoI the cat images (or the data); 'pixel (5,0) for cat image "
               "C vs dog image D': QoI s_cat - s_dog, DoI the point C (or the path to C)."),
    ("5.2", 8, "two lists of 10 conv4_1 neurons (instance, class), the top 3 drawn on the "
               "first starfish; a comparison with pixel IG that names what the neurons "
               "pick out (parts vs the whole object)."),
    ("6.2", 15, "the two neuron indices, their maps on 3 test sports cars, and the concepts: "
                "the absolute neuron on the car as a whole, the comparative one on what "
                "tells the classes apart (the roof)."),
    ("6.3", 10, "extra credit: 10+ images per class of two similar classes, the replicated "
                "maps and a reasoned reading of them."),
    ("7", 20, "Figure 3 heat map for chain saw (recall/precision over top/bottom), "
              "Table 1 columns 1 and 3 printed for the five classes, with the best cell "
              "per class."),
]


def points():
    return {q: spec[1] for q, spec in AUTOGRADED.items()}


def owner(function):
    """The question whose solution region ``function`` (``Class.method`` or a module
    function) is, or None."""
    for q, spec in AUTOGRADED.items():
        if function in spec[2]:
            return q, spec[0]
    return None
