//! A passkey as the second factor: after the password at log-in (the ceremony begun for
//! an `mfa_token`), and confirming a sensitive change (begun for the session). The
//! ceremony names the account's passkeys, requires user verification, and answers only
//! for the step it was begun for.

use super::{
    passkeys::{credential_key, internal},
    second_factor::{FactorStep, PasskeyProof},
    AccountError, Accounts, Challenge, Client, Principal,
};
use crate::server::{store::User, throttle::Action};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication, PublicKeyCredential};

/// The purpose of a second-factor ceremony.
const SECOND_FACTOR: &str = "second_factor";

/// What a second-factor ceremony keeps: the step it answers for, and webauthn-rs's state.
#[derive(Serialize, Deserialize)]
struct Bound {
    to: Option<String>,
    state: PasskeyAuthentication,
}

/// The step a ceremony is bound to, as stored (its replace-by-step key): none for a
/// change without a session, which would otherwise be one key for every account's
/// such ceremonies (`session:`), each replacing the others. A ceremony bound to no
/// step answers for none.
fn binding(step: FactorStep<'_>) -> Option<String> {
    match step {
        FactorStep::LogIn { mfa_token_hash } => Some(format!("mfa:{mfa_token_hash}")),
        FactorStep::Change { session_id } => session_id.map(|id| format!("session:{id}")),
    }
}

impl Accounts {
    /// Begins the passkey step of a log-in that answered `mfa_required`.
    pub async fn start_passkey_second_factor(
        &self,
        mfa_token: &str,
        client: Client<'_>,
    ) -> Result<Challenge, AccountError> {
        let (mfa_token_hash, _, found) = self.live_mfa_challenge(mfa_token, client).await?;
        let step = FactorStep::LogIn {
            mfa_token_hash: &mfa_token_hash,
        };
        self.begin_passkey_assertion(&found.user, step).await
    }

    /// Begins confirming a sensitive change with a passkey, from the caller's session:
    /// spends the account's ceremony budget.
    pub async fn start_passkey_confirmation(
        &self,
        principal: &Principal,
        client: Client<'_>,
    ) -> Result<Challenge, AccountError> {
        let user_id = principal.user.id;
        self.spend(Action::PasskeyCeremony { user_id }, client.addr)
            .await?;
        let step = FactorStep::Change {
            session_id: Some(&principal.session_id),
        };
        self.begin_passkey_assertion(&principal.user, step).await
    }

    async fn begin_passkey_assertion(
        &self,
        user: &User,
        step: FactorStep<'_>,
    ) -> Result<Challenge, AccountError> {
        let rp = self.relying_party()?;
        let passkeys = self
            .store
            .passkeys(user.id)
            .await?
            .iter()
            .map(|stored| serde_json::from_str::<Passkey>(&stored.credential))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        if passkeys.is_empty() {
            return Err(AccountError::SecondFactorState(
                "This account has no passkey: use another second factor.",
            ));
        }
        let (options, state) = rp
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(internal)?;
        let to = binding(step);
        let state = serde_json::to_string(&Bound {
            to: to.clone(),
            state,
        })
        .map_err(internal)?;
        let ceremony = self
            .begin_ceremony(SECOND_FACTOR, (Some(user.id), to), state)
            .await?;
        let options = serde_json::to_value(&options).map_err(internal)?;
        Ok(Challenge { ceremony, options })
    }

    /// Checks a passkey's assertion as `user`'s second factor at `step`: the `amr` of the
    /// key. `WrongSecondFactor("passkey")` when it is not one of the account's passkeys
    /// or does not verify.
    pub(super) async fn check_passkey_proof(
        &self,
        user: &User,
        proof: PasskeyProof<'_>,
        step: FactorStep<'_>,
        client: Client<'_>,
    ) -> Result<&'static str, AccountError> {
        let rp = self.relying_party()?;
        let ceremony = self.take_ceremony(proof.ceremony, SECOND_FACTOR).await?;
        let Bound { to, state } = serde_json::from_str(&ceremony.state).map_err(internal)?;
        if ceremony.user_id != Some(user.id) || to.is_none() || to != binding(step) {
            return Err(AccountError::InvalidCeremony { expired: false });
        }
        let response: PublicKeyCredential = serde_json::from_value(proof.credential.clone())
            .map_err(|e| AccountError::InvalidPasskeyResponse(e.to_string()))?;
        let wrong = || AccountError::WrongSecondFactor("passkey");
        let stored = self
            .store
            .passkey_by_credential(&credential_key(response.get_credential_id()))
            .await?
            .filter(|stored| stored.user_id == user.id)
            .ok_or_else(wrong)?;
        let passkey: Passkey = serde_json::from_str(&stored.credential).map_err(internal)?;
        let verdict = rp.webauthn.finish_passkey_authentication(&response, &state);
        self.accept_assertion(&stored, passkey, verdict, client, false)
            .await
            .map_err(|e| match e {
                AccountError::PasskeyNotAccepted => wrong(),
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{binding, FactorStep};

    #[test]
    fn a_change_without_a_session_binds_to_no_step() {
        assert_eq!(binding(FactorStep::Change { session_id: None }), None);
        let session = binding(FactorStep::Change {
            session_id: Some("s1"),
        });
        assert_eq!(session.as_deref(), Some("session:s1"));
        let log_in = binding(FactorStep::LogIn {
            mfa_token_hash: "h1",
        });
        assert_eq!(log_in.as_deref(), Some("mfa:h1"));
    }
}
