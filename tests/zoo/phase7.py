"""Phase 7's new skills: mixed precision with a GradScaler, and a schedule planned per batch.

`train_epoch_amp`: clipping before `scaler.unscale_`, not clipping, clipping at another
norm, a scaler of one's own, a step that bypasses the scaler, a forward pass outside
autocast; and correct code in several shapes (clipping at `max_norm × scale` before
unscaling is the same update, so it passes). `train_epoch_onecycle`: a scheduler stepped
once per epoch, never, twice per batch, before the optimizer; and correct shapes.
"""
import torch
import torch.nn.functional as F

from . import case


def _amp_losses(model, loader, loss_fn, optimizer, scaler, before_step, dtype=torch.bfloat16):
    """A shared skeleton for the variants: autocast forward, scaled backward, then `before_step`."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=dtype):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        before_step()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


# -- train_epoch_amp: correct -------------------------------------------------------------

@case("train_epoch_amp")
def amp_unscale_then_clip(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    total = 0.0
    for images, labels in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            scores = model(images)
            loss = loss_fn(scores, labels)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        scaler.step(optimizer)
        scaler.update()
        total += loss.item()
    return total / len(loader)


@case("train_epoch_amp")
def amp_functional_loss_enumerate_and_clear_after_step(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    device_type = next(model.parameters()).device.type
    losses = []
    for _, (x, y) in enumerate(loader):
        with torch.amp.autocast(device_type):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm, norm_type=2.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    return float(sum(losses) / len(losses))


@case("train_epoch_amp")
def amp_clips_the_scaled_gradients_at_the_scaled_norm(model, loader, loss_fn, optimizer, scaler, max_norm):
    """Clipping scaled gradients at max_norm × scale, then unscaling: the very same update."""
    return _amp_losses(model, loader, loss_fn, optimizer, scaler, lambda: torch.nn.utils.clip_grad_norm_(
        model.parameters(), max_norm * scaler.get_scale()))


@case("train_epoch_amp")
def amp_in_float16_as_autocast_picks_on_a_gpu(model, loader, loss_fn, optimizer, scaler, max_norm):
    """float16, the type autocast picks on a CUDA GPU (CPU autocast runs it too): the GPU's path, on a CPU."""
    def unscale_and_clip():
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)

    return _amp_losses(model, loader, loss_fn, optimizer, scaler, unscale_and_clip, dtype=torch.float16)


@case("train_epoch_amp", init_scale=2.0 ** 20)
def amp_float16_while_the_scaler_skips_steps(model, loader, loss_fn, optimizer, scaler, max_norm):
    """A scale too large for float16: the scaler finds inf, skips those steps and halves its scale, as on a GPU
    it may. Skipped steps and the lower scales that follow are the scaler's job, not a bug."""
    model.train()
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16):
            loss = loss_fn(model(inputs), targets)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


# -- train_epoch_amp: buggy ------------------------------------------------------------------

@case("train_epoch_amp", "clip-before-unscale")
def amp_clips_before_unscaling(model, loader, loss_fn, optimizer, scaler, max_norm):
    return _amp_losses(model, loader, loss_fn, optimizer, scaler,
                       lambda: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm))


@case("train_epoch_amp", "clip-before-unscale")
def amp_unscales_after_clipping(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    total, n = 0.0, 0
    iterator = iter(loader)
    while True:
        try:
            x, y = next(iterator)
        except StopIteration:
            break
        optimizer.zero_grad()
        with torch.autocast("cpu"):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
        total, n = total + loss.item(), n + 1
    return total / n


@case("train_epoch_amp", "clip-before-unscale")
def amp_clips_scaled_float16_gradients(model, loader, loss_fn, optimizer, scaler, max_norm):
    """The GPU's float16 path, clipped while still scaled."""
    return _amp_losses(model, loader, loss_fn, optimizer, scaler,
                       lambda: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm), dtype=torch.float16)


@case("train_epoch_amp", "clip-before-unscale", init_scale=2.0 ** 20)
def amp_clips_float16_while_scaled_as_the_scaler_backs_off(model, loader, loss_fn, optimizer, scaler, max_norm):
    """Clipped while scaled, with a scale the scaler halves as it skips steps: named with the scale it held."""
    return _amp_losses(model, loader, loss_fn, optimizer, scaler,
                       lambda: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm), dtype=torch.float16)


@case("train_epoch_amp", "clip-norm-wrong")
def amp_never_clips(model, loader, loss_fn, optimizer, scaler, max_norm):
    return _amp_losses(model, loader, loss_fn, optimizer, scaler, lambda: scaler.unscale_(optimizer))


@case("train_epoch_amp", "clip-norm-wrong")
def amp_clips_at_a_norm_of_its_own(model, loader, loss_fn, optimizer, scaler, max_norm):
    def unscale_and_clip():
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)

    return _amp_losses(model, loader, loss_fn, optimizer, scaler, unscale_and_clip)


@case("train_epoch_amp", "clip-norm-wrong")
def amp_clips_each_value(model, loader, loss_fn, optimizer, scaler, max_norm):
    def unscale_and_clip_values():
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_value_(model.parameters(), max_norm / 20)

    return _amp_losses(model, loader, loss_fn, optimizer, scaler, unscale_and_clip_values)


@case("train_epoch_amp", "scaler-unused")
def amp_builds_a_scaler_of_its_own(model, loader, loss_fn, optimizer, scaler, max_norm):
    mine = torch.amp.GradScaler("cpu")

    def unscale_and_clip():
        mine.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)

    return _amp_losses(model, loader, loss_fn, optimizer, mine, unscale_and_clip)


@case("train_epoch_amp", "scaler-unused")
def amp_steps_the_optimizer_directly(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_amp", "scaler-unused")
def amp_never_updates_the_scaler(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_amp", "scaler-unused")
def amp_unscales_again_before_the_step(model, loader, loss_fn, optimizer, scaler, max_norm):
    def unscale_clip_and_unscale_again():
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.unscale_(optimizer)

    return _amp_losses(model, loader, loss_fn, optimizer, scaler, unscale_clip_and_unscale_again)


@case("train_epoch_amp", "autocast-missing")
def amp_without_autocast(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_amp", "autocast-missing")
def amp_autocast_around_backward_only(model, loader, loss_fn, optimizer, scaler, max_norm):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


# -- train_epoch_onecycle ---------------------------------------------------------------------

def _scheduled(model, loader, loss_fn, optimizer, after_batch, after_epoch=lambda: None):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        after_batch()
        losses.append(loss.item())
    after_epoch()
    return sum(losses) / len(losses)


@case("train_epoch_onecycle")
def onecycle_steps_after_each_optimizer_step(model, loader, loss_fn, optimizer, scheduler):
    return _scheduled(model, loader, loss_fn, optimizer, scheduler.step)


@case("train_epoch_onecycle")
def onecycle_while_loop_clearing_after_the_step(model, loader, loss_fn, optimizer, scheduler):
    model.train()
    batches = iter(loader)
    total, n = 0.0, 0
    while (batch := next(batches, None)) is not None:
        inputs, targets = batch
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        total, n = total + loss.item(), n + 1
    return total / n


@case("train_epoch_onecycle", "scheduler-cadence")
def onecycle_stepped_once_per_epoch(model, loader, loss_fn, optimizer, scheduler):
    return _scheduled(model, loader, loss_fn, optimizer, lambda: None, after_epoch=scheduler.step)


@case("train_epoch_onecycle", "scheduler-cadence")
def onecycle_never_stepped(model, loader, loss_fn, optimizer, scheduler):
    return _scheduled(model, loader, loss_fn, optimizer, lambda: None)


@case("train_epoch_onecycle", "scheduler-cadence")
def onecycle_stepped_twice_per_batch(model, loader, loss_fn, optimizer, scheduler):
    def twice():
        scheduler.step()
        scheduler.step()

    return _scheduled(model, loader, loss_fn, optimizer, twice)


@case("train_epoch_onecycle", "scheduler-before-step")
def onecycle_stepped_before_the_optimizer(model, loader, loss_fn, optimizer, scheduler):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        scheduler.step()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_onecycle", "scheduler-before-step")
def onecycle_stepped_at_the_top_of_the_loop(model, loader, loss_fn, optimizer, scheduler):
    model.train()
    losses = []
    for x, y in loader:
        scheduler.step()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_onecycle", "scheduler-cadence")
def onecycle_one_step_more_at_the_end_of_the_epoch(model, loader, loss_fn, optimizer, scheduler):
    """Right within the epoch; the extra step shows only in the next epoch's first rate."""
    return _scheduled(model, loader, loss_fn, optimizer, scheduler.step, after_epoch=scheduler.step)


@case("train_epoch_onecycle")
def onecycle_reads_the_planned_rate_and_steps_inside_the_loop(model, loader, loss_fn, optimizer, scheduler):
    model.train()
    losses, rates = [], []
    for step, (x, y) in enumerate(loader, start=1):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.detach().item())
    assert len(rates) == step
    return sum(losses) / step
