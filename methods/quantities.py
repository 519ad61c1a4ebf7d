"""The softmax-probability quantity of interest, p_t = softmax(s)_t.

The course's VGG16 has linear scores s (the slides' "linear substitution"); the
CSEP 590B homework explains the *probability* of the target class instead,

    Q(x) = p_t(x) = exp(s_t(x)) / sum_c exp(s_c(x)).

:class:`ProbabilityQoI` is a :class:`Explanation.LinearQoI` whose tensor is
``softmax(model.output)`` (target key ``'probabilities'``): Q = <e_t, softmax(s)>.
Like the score QoIs, it shares one compiled gradient per slice among all classes;
switching t sets a weight vector, it does not recompile. Use it at any slice, with
any DoI::

    Explanation(model, Point()).for_input().for_quantity(ProbabilityQoI(t)).explain(x)

:func:`methods.scores.probabilities` is the same quantity evaluated forward only (NumPy
softmax of the model's scores, in float64), which the removal methods use.
"""
import hw3_env  # noqa: F401  (must come before keras/theano)

import theano.tensor as T

from Explanation import ClassQoI, class_label

K = hw3_env.setup()


class ProbabilityQoI(ClassQoI):
    """Q = p_c = softmax(s)_c, the model's probability of class c.

    Args:
        c: the class index.
    """

    def target(self, model):
        p = T.nnet.softmax(model.output)
        p._keras_shape = K.int_shape(model.output)   # Keras reads shapes from here
        return p

    def target_key(self):
        return "probabilities"

    def __str__(self):
        return "p_%d" % self.c

    def describe(self, class_names=None):
        return "p_%s" % class_label(class_names, self.c)
