import ape
from eth_utils import keccak


def test_register_stores_params_in_clear_with_hash(reward_models, oracle_admin):
    params = '{"a":10,"b":5,"c":5,"max_per_period":1000}'
    tx = reward_models.registerModel("sc-test", "self_consumption", params, sender=oracle_admin)
    model_id = reward_models.modelCount()
    assert tx.events == [
        reward_models.ModelRegistered(
            modelId=model_id,
            name="sc-test",
            version=1,
            kind="self_consumption",
            paramsHash=keccak(text=params),
            params=params,
        )
    ]
    m = reward_models.model(model_id)
    assert (m.name, m.kind, m.version, m.params, m.paramsHash) == (
        "sc-test",
        "self_consumption",
        1,
        params,
        keccak(text=params),
    )
    assert m.registeredBy == oracle_admin.address
    assert reward_models.exists(model_id) and not reward_models.exists(model_id + 1)


def test_a_change_is_a_new_version(reward_models, oracle_admin):
    reward_models.registerModel("no-peaks", "no_peaks", '{"par_ref":30000,"rate":2}', sender=oracle_admin)
    first = reward_models.latestModelId("no-peaks")
    reward_models.registerModel("no-peaks", "no_peaks", '{"par_ref":25000,"rate":2}', sender=oracle_admin)
    second = reward_models.latestModelId("no-peaks")
    assert second == first + 1
    assert reward_models.model(first).version == 1 and reward_models.model(second).version == 2
    assert reward_models.model(first).params == '{"par_ref":30000,"rate":2}'
    assert reward_models.latestModelId("never-registered") == 0


def test_only_oracle_admin_registers(reward_models, outsider):
    with ape.reverts(reward_models.AccessControlUnauthorizedAccount):
        reward_models.registerModel("m", "k", "{}", sender=outsider)


def test_empty_fields_are_refused(reward_models, oracle_admin):
    for args in (("", "k", "{}"), ("m", "", "{}"), ("m", "k", "")):
        with ape.reverts(reward_models.RewardModelsEmptyField):
            reward_models.registerModel(*args, sender=oracle_admin)


def test_unknown_model(reward_models):
    with ape.reverts(reward_models.RewardModelsUnknownModel):
        reward_models.model(0)
    assert not reward_models.exists(0)
