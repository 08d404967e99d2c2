"""Post-training maths shared by every training backend (docs/recipe.md section 5): SFT, DPO
and reward-model losses and loops, batch layouts, model I/O, and the backend-neutral
``PostTrainJob`` runner and launcher (``run_post_train_job``)."""
