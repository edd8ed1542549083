namespace Herald.Storage.Model;

/// <summary>What a rotation of an endpoint's signing secret came to.</summary>
public enum SecretRotationOutcome
{
    Rotated,

    /// <summary>The merchant has no such endpoint.</summary>
    NotFound,

    /// <summary>
    /// Refused, nothing changed: the secrets signing now, with the new one beside them, would be
    /// more than the most allowed.
    /// </summary>
    TooManySigning,
}

/// <summary>
/// A rotation's outcome; when refused for <see cref="SecretRotationOutcome.TooManySigning"/>, how
/// many secrets sign and when enough of their graces will have ended for a rotation with a grace to fit.
/// </summary>
public readonly record struct SecretRotation(SecretRotationOutcome Outcome, int Signing = 0, DateTimeOffset? FitsAt = null);
